// Running a hook script (`cuttle run`): the language, the variables channel, the interpreter process, the
// service messages on its stdout and the output-variables files.
//
// Example:
//   cuttle::runner::script_run_options o;
//   o.sources = {{cuttle::runner::variable_source::kind::file, "vars.json"}};
//   o.script = "deploy.sh";
//   o.output_variables = "out.json";
//   int code = cuttle::runner::run_script(o);   // the script's exit code, or one of cuttle's own
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cuttle/runner/variable_sources.hpp"

namespace cuttle::runner {

/// Exit codes of `cuttle run` that are cuttle's own (all others are the script's).
namespace run_exit {
inline constexpr int usage = 2;        ///< bad input: options, variables, unsupported language
inline constexpr int timed_out = 124;  ///< --timeout expired; the script's process group was killed
inline constexpr int interpreter_not_usable = 126;  ///< the interpreter exists but cannot be executed
inline constexpr int interpreter_missing = 127;     ///< the interpreter is not on PATH
}  // namespace run_exit

/// What `cuttle run` was asked to do.
struct script_run_options {
  std::vector<variable_source> sources;         ///< --variables, --sensitive-variables, --set, in order
  std::string script;                           ///< the script's path (made absolute before it is started)
  std::vector<std::string> args;                ///< the script's arguments (after `--`)
  std::optional<std::string> language;          ///< --language; default: from the script's extension
  std::optional<std::string> output_variables;  ///< --output-variables FILE
  std::optional<std::string> sensitive_output_variables;  ///< --sensitive-output-variables FILE (0600)
  std::optional<double> timeout_seconds;                  ///< --timeout SECONDS
};

/// Runs the script as `cuttle run` does: its stdout is copied to ours (service messages included) and
/// its stderr is inherited. Problems are reported on stderr. Returns the script's exit code (128+N when a
/// signal N ended it) or one of `run_exit`.
int run_script(const script_run_options& options);

/// Prints the preamble of the language named `language` to stdout (`cuttle bootstrap`); returns 0, or
/// `run_exit::usage` after a message on stderr when the language is unknown or not supported yet.
int print_bootstrap(const std::string& language);

}  // namespace cuttle::runner

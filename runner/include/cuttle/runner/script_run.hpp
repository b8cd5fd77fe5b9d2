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

#include "cuttle/bootstrappers/bootstrap.hpp"
#include "cuttle/runner/log_output.hpp"
#include "cuttle/runner/variable_sources.hpp"

namespace cuttle::runner {

/// Exit codes of `cuttle run` that are cuttle's own (all others are the script's).
namespace run_exit {
inline constexpr int wrote_stderr = 1;  ///< --fail-on-stderr: the script succeeded but wrote to stderr
inline constexpr int usage = 2;         ///< bad input: options, variables, unsupported language
inline constexpr int timed_out = 124;   ///< --timeout expired; the script's process group was killed
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
  std::optional<log_format> format;          ///< --log-format; default: terminal on a tty, else plain
  std::optional<std::string> artifacts_dir;  ///< --artifacts DIR
  bool fail_on_stderr = false;               ///< --fail-on-stderr
  std::vector<std::string> masks;            ///< --mask TEXT: more secrets
};

/// One script run inside a larger job (`cuttle deploy`'s hooks): the variables are loaded already.
struct script_execution {
  std::string script;  ///< the script's path (made absolute before it is started)
  std::vector<std::string> args;
  bootstrappers::language script_language = bootstrappers::language::bash;
  std::optional<std::string> working_directory;  ///< the child's current directory (default: cuttle's)
  std::optional<double> timeout_seconds;
  log_format format = log_format::plain;
  std::optional<std::string> artifacts_dir;
  bool fail_on_stderr = false;
  std::vector<std::string> masks;  ///< more secrets (besides the sensitive variables)
};

struct script_execution_result {
  int code = run_exit::usage;  ///< the script's exit code, or one of run_exit
  bool started = false;        ///< false: cuttle could not start it (the reason was reported on stderr)
  bool wrote_stderr = false;
  bool failed_on_stderr =
      false;  ///< code is run_exit::wrote_stderr because of Octopus.Action.FailScriptOnErrorOutput
  engine::variables outputs;  ///< the output variables it set (sensitive ones flagged)
};

/// Starts the script with `vars`, passes its output through a script_output (service messages, masking,
/// levels) to cuttle's stdout and stderr, and waits for it. Problems of cuttle's own are reported on stderr.
script_execution_result execute_script(const script_execution& options, const engine::variables& vars);

/// Writes the output variables a script set: the non-sensitive ones to `file`, the sensitive ones to
/// `sensitive_file` (mode 0600; without it their names are reported as not written), each under its own name
/// and, when Octopus.Action.Name is set in `inputs`, as Octopus.Action[<action>].Output.<name>. Returns false
/// after a note on `log` when a file could not be written.
bool write_output_variables(const std::optional<std::string>& file,
                            const std::optional<std::string>& sensitive_file,
                            const engine::variables& outputs, const engine::variables& inputs,
                            log_writer& log);

/// Runs the script as `cuttle run` does: its stdout and stderr pass through a script_output (service
/// messages acted on, secrets masked, levels printed in the chosen format). Problems are reported on stderr.
/// Returns the script's exit code (128+N when a signal N ended it) or one of `run_exit`.
int run_script(const script_run_options& options);

/// Prints the preamble of the language named `language` to stdout (`cuttle bootstrap`); returns 0, or
/// `run_exit::usage` after a message on stderr when the language is unknown or not supported yet.
int print_bootstrap(const std::string& language);

}  // namespace cuttle::runner

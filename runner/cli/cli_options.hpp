// Command-line parsing for `cuttle`: argv -> cli_options, plus the help texts.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cuttle/runner/variable_sources.hpp"

namespace cuttle::cli {

enum class command { none, help, render, eval, run, deploy, bootstrap, mask, version };

struct cli_options {
  command cmd = command::none;
  bool help = false;  ///< `cuttle <command> --help`
  std::vector<runner::variable_source> sources;
  bool strict = false;
  bool continue_on_error = false;  ///< Octostache's haltOnError=false
  std::optional<std::string> output;
  std::string input = "-";  ///< render: template file; eval: template text
  bool have_input = false;
  // run and bootstrap
  std::optional<std::string> language;                    ///< --language
  std::optional<std::string> output_variables;            ///< --output-variables FILE
  std::optional<std::string> sensitive_output_variables;  ///< --sensitive-output-variables FILE
  std::optional<double> timeout_seconds;                  ///< --timeout SECONDS
  std::vector<std::string> script_args;                   ///< run: the arguments after SCRIPT and `--`
  std::optional<std::string> log_format;                  ///< run: --log-format auto|plain|terminal|json
  std::optional<std::string> artifacts_dir;               ///< run: --artifacts DIR
  bool fail_on_stderr = false;                            ///< run: --fail-on-stderr
  std::vector<std::string> masks;                         ///< run, mask: --mask TEXT
  // deploy (input is the package)
  std::optional<std::string> install_root;  ///< --install-root DIR
  std::optional<std::string> journal;       ///< --journal FILE
};

/// Parses argv; on error returns nullopt and sets `error`.
std::optional<cli_options> parse_command_line(int argc, char** argv, std::string& error);

/// Help texts.
const char* main_help();
const char* render_help();
const char* eval_help();
const char* run_help();
const char* deploy_help();
const char* bootstrap_help();
const char* mask_help();

}  // namespace cuttle::cli

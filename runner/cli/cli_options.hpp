// Command-line parsing for `cuttle`: argv -> cli_options, plus the help texts.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cuttle/runner/variable_sources.hpp"

namespace cuttle::cli {

enum class command { none, help, render, eval, version };

struct cli_options {
  command cmd = command::none;
  bool help = false;  ///< `cuttle <command> --help`
  std::vector<runner::variable_source> sources;
  bool strict = false;
  bool continue_on_error = false;  ///< Octostache's haltOnError=false
  std::optional<std::string> output;
  std::string input = "-";  ///< render: template file; eval: template text
  bool have_input = false;
};

/// Parses argv; on error returns nullopt and sets `error`.
std::optional<cli_options> parse_command_line(int argc, char** argv, std::string& error);

/// Help texts.
const char* main_help();
const char* render_help();
const char* eval_help();

}  // namespace cuttle::cli

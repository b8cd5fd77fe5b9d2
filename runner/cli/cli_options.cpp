// Command-line parsing and help texts for `cuttle`.
// Tested by tests/runner/cli_test.cpp

#include "cli_options.hpp"

#include <string_view>

namespace cuttle::cli {

const char* main_help() {
  return R"(cuttle - Octopus-compatible variable templating

Usage:
  cuttle render [OPTIONS] [TEMPLATE_FILE|-]   render a template file (or stdin) to stdout or --output
  cuttle eval [OPTIONS] TEMPLATE_TEXT         render one template string given on the command line
  cuttle --help | cuttle <command> --help     show help
  cuttle --version                            show the version

Variable options (render and eval; applied in the order given, later ones override earlier ones):
  --variables FILE            a JSON object name -> value (string as is, null = null value,
                              any other JSON value stored as its compact JSON text)
  --sensitive-variables FILE  the same format; values are sensitive and never printed in diagnostics
  --set NAME=VALUE            set one variable

Render options:
  --strict                    any unresolved variable, unknown or failing filter (e.g. invalid base64)
                              or parse error is an error: nothing is written and the exit status is 2
  --output FILE, -o FILE      write to FILE atomically instead of stdout (never a partial file)
  --continue-on-error         keep unparseable '#{' as text instead of outputting the whole
                              template unchanged (Octostache's haltOnError=false)

Diagnostics go to stderr as FILE:LINE:COL: warning[E0xx]: message (see docs/diagnostics.md).

Exit status:
  0  rendered (warnings may have been printed)
  2  --strict found a problem; bad input (unreadable file, invalid variables JSON, bad option);
     or a fatal template error (recursive variable definition, exceeded limit)
)";
}

const char* render_help() {
  return R"(Usage: cuttle render [--variables FILE]... [--sensitive-variables FILE]... [--set NAME=VALUE]...
                     [--strict] [--continue-on-error] [--output FILE] [TEMPLATE_FILE|-]

Renders TEMPLATE_FILE (stdin when omitted or '-') with the Octopus variable syntax (#{Name},
#{Name | Filter}, #{if}, #{unless}, #{each}, #{calc}; see docs/syntax.md). All 46 Octostache filters are
built in (docs/filters.md); dates use the en-US culture and the local time zone (TZ).

  --variables FILE            load a variables file: a JSON object name -> value. Strings are used as they
                              are, null is a null value, other JSON values are stored as compact JSON text.
  --sensitive-variables FILE  the same format; values are masked (********) in everything cuttle prints
  --set NAME=VALUE            set one variable (after the files given before it)
  --strict                    unresolved variables, unknown or failing filters and parse errors are errors:
                              nothing is written to stdout or --output, exit status 2
  --output FILE, -o FILE      write the result to FILE atomically (temporary file + rename)
  --continue-on-error         keep unparseable '#{' as literal text and go on (default: Octostache's halting
                              mode, which outputs the whole template unchanged when any '#{' fails to parse)

By default the output is byte-identical to Octostache's and every problem is a warning on stderr
(FILE:LINE:COL: warning[E0xx]: ...) with exit status 0.
Exit status: 0 rendered; 2 strict failure, bad input or fatal template error.
)";
}

const char* eval_help() {
  return R"(Usage: cuttle eval [--variables FILE]... [--sensitive-variables FILE]... [--set NAME=VALUE]...
                   [--strict] [--continue-on-error] TEMPLATE_TEXT

Renders TEMPLATE_TEXT (one command-line argument) to stdout. Options as for `cuttle render`.
Example: cuttle eval --set Name=World 'Hello #{Name | ToUpper}'
)";
}

std::optional<cli_options> parse_command_line(int argc, char** argv, std::string& error) {
  cli_options o;
  if (argc < 2) {
    o.cmd = command::help;
    return o;
  }
  const std::string_view cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    o.cmd = command::help;
    return o;
  }
  if (cmd == "--version") {
    o.cmd = command::version;
    return o;
  }
  if (cmd == "render") {
    o.cmd = command::render;
  } else if (cmd == "eval") {
    o.cmd = command::eval;
  } else {
    error = "unknown command '" + std::string(cmd) + "' (expected render or eval; see cuttle --help)";
    return std::nullopt;
  }
  bool options_done = false;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) {
        error = std::string(a) + " needs a value";
        return false;
      }
      out = argv[++i];
      return true;
    };
    std::string v;
    if (!options_done && a == "--") {
      options_done = true;
    } else if (!options_done && (a == "--help" || a == "-h")) {
      o.help = true;
    } else if (!options_done && a == "--variables") {
      if (!value(v)) return std::nullopt;
      o.sources.push_back({runner::variable_source::kind::file, v});
    } else if (!options_done && a == "--sensitive-variables") {
      if (!value(v)) return std::nullopt;
      o.sources.push_back({runner::variable_source::kind::sensitive_file, v});
    } else if (!options_done && a == "--set") {
      if (!value(v)) return std::nullopt;
      o.sources.push_back({runner::variable_source::kind::assignment, v});
    } else if (!options_done && a == "--strict") {
      o.strict = true;
    } else if (!options_done && a == "--continue-on-error") {
      o.continue_on_error = true;
    } else if (!options_done && (a == "--output" || a == "-o")) {
      if (!value(v)) return std::nullopt;
      o.output = v;
    } else if (!options_done && a.size() > 1 && a[0] == '-' && !(a == "-" && o.cmd == command::render)) {
      error = "unknown option '" + std::string(a) + "' (see cuttle " + std::string(cmd) + " --help)";
      return std::nullopt;
    } else {
      if (o.have_input) {
        error = "more than one " + std::string(o.cmd == command::eval ? "template text" : "template file") +
                " given ('" + o.input + "' and '" + std::string(a) + "')";
        return std::nullopt;
      }
      o.input = a;
      o.have_input = true;
    }
  }
  if (o.cmd == command::eval && !o.have_input && !o.help) {
    error = "eval needs the template text as an argument (see cuttle eval --help)";
    return std::nullopt;
  }
  return o;
}

}  // namespace cuttle::cli

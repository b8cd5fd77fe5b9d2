// The `cuttle` executable: argv -> options -> load variables -> parse -> render -> output and exit code;
// `run` and `bootstrap` go to the runner's script_run.
// Tested by tests/runner/cli_test.cpp and tests/runner/run_test.cpp

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "cli_options.hpp"
#include "cuttle/engine.hpp"
#include "cuttle/runner/deploy/deploy.hpp"
#include "cuttle/runner/files.hpp"
#include "cuttle/runner/mask_filter.hpp"
#include "cuttle/runner/script_run.hpp"
#include "cuttle/runner/variable_sources.hpp"

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized_build = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool sanitized_build = true;
#else
constexpr bool sanitized_build = false;
#endif
#else
constexpr bool sanitized_build = false;
#endif

constexpr int exit_ok = 0;
constexpr int exit_error = 2;

using cuttle::runner::write_all;

void print_err(const std::string& line, const std::vector<std::string>& secrets) {
  write_all(STDERR_FILENO, cuttle::runner::mask_secrets(line, secrets) + "\n");
}

int write_output(const cuttle::cli::cli_options& o, std::string_view out,
                 const std::vector<std::string>& secrets) {
  if (o.output) {
    if (auto err = cuttle::runner::write_file_atomically(*o.output, out)) {
      print_err("error: " + *err, secrets);
      return exit_error;
    }
    return exit_ok;
  }
  write_all(STDOUT_FILENO, out);
  return exit_ok;
}

/// --log-format; nullopt for auto.
std::optional<cuttle::runner::log_format> log_format_of(const cuttle::cli::cli_options& o) {
  if (!o.log_format || *o.log_format == "auto") return std::nullopt;
  const auto& f = *o.log_format;
  return f == "json"       ? cuttle::runner::log_format::json
         : f == "terminal" ? cuttle::runner::log_format::terminal
                           : cuttle::runner::log_format::plain;
}

int run(const cuttle::cli::cli_options& o) {
  using namespace cuttle;
  engine::variables& vars = runner::process_lifetime_variables();
  std::vector<std::string> errors;
  if (!runner::load_variable_sources(o.sources, vars, errors)) {
    for (const auto& e : errors) print_err(e, vars.sensitive_values());
    return exit_error;
  }
  const auto secrets = vars.sensitive_values();

  runner::file_contents file;
  std::string_view text;
  engine::parse_options po;
  po.halt_on_error = !o.continue_on_error;
  if (o.cmd == cli::command::eval) {
    text = o.input;
    po.source_name = "<eval>";
  } else {
    if (auto err = file.open(o.input)) {
      print_err("error: " + *err, secrets);
      return exit_error;
    }
    po.source_name = o.input == "-" ? "<stdin>" : o.input;
    text = file.view();
  }

  // Text without "#{" is never parsed (as in Octostache) and is written as it is.
  if (!engine::needs_evaluation(text)) return write_output(o, text, secrets);

  // One render: evaluate() streams tokens from the parser to the renderer without holding the AST.
  auto result_owner = std::make_unique<engine::render_result>(engine::evaluate(text, vars, po));
  const auto& result = *result_owner;
  // The result is not destroyed in normal builds: the process ends right after. Sanitizer builds free it
  // (leak checks).
  if (!sanitized_build) (void)result_owner.release();
  bool problem = result.failed;
  for (const auto& d : result.diagnostics) {
    auto copy = d;
    if (o.strict && copy.code != engine::error_code::null_result) copy.severity = engine::severity::error;
    problem = problem || copy.severity == engine::severity::error;
    print_err(copy.to_string(), secrets);
  }
  if (problem) return exit_error;
  // A template that evaluates to null (the `null` filter) renders as empty output.
  return write_output(o, result.output ? std::string_view(*result.output) : std::string_view(), secrets);
}

}  // namespace

int main(int argc, char** argv) {
  std::string error;
  const auto options = cuttle::cli::parse_command_line(argc, argv, error);
  if (!options) {
    std::fprintf(stderr, "cuttle: %s\n", error.c_str());
    return exit_error;
  }
  switch (options->cmd) {
    case cuttle::cli::command::help:
      std::fputs(cuttle::cli::main_help(), stdout);
      return exit_ok;
    case cuttle::cli::command::version:
      std::puts("cuttle 0.1.0");
      return exit_ok;
    default:
      break;
  }
  if (options->help) {
    const char* text = cuttle::cli::render_help();
    if (options->cmd == cuttle::cli::command::eval) text = cuttle::cli::eval_help();
    if (options->cmd == cuttle::cli::command::run) text = cuttle::cli::run_help();
    if (options->cmd == cuttle::cli::command::deploy) text = cuttle::cli::deploy_help();
    if (options->cmd == cuttle::cli::command::bootstrap) text = cuttle::cli::bootstrap_help();
    if (options->cmd == cuttle::cli::command::mask) text = cuttle::cli::mask_help();
    std::fputs(text, stdout);
    return exit_ok;
  }
  try {
    if (options->cmd == cuttle::cli::command::bootstrap)
      return cuttle::runner::print_bootstrap(*options->language);
    if (options->cmd == cuttle::cli::command::mask)
      return cuttle::runner::mask_filter(options->sources, options->masks, STDIN_FILENO, STDOUT_FILENO);
    if (options->cmd == cuttle::cli::command::deploy) {
      cuttle::runner::deploy::deploy_options d;
      d.sources = options->sources;
      d.package = options->input;
      d.install_root = options->install_root;
      d.journal = options->journal;
      d.output_variables = options->output_variables;
      d.sensitive_output_variables = options->sensitive_output_variables;
      d.timeout_seconds = options->timeout_seconds;
      d.format = log_format_of(*options);
      d.masks = options->masks;
      return cuttle::runner::deploy::run_deploy(d);
    }
    if (options->cmd == cuttle::cli::command::run) {
      cuttle::runner::script_run_options r;
      r.sources = options->sources;
      r.script = options->input;
      r.args = options->script_args;
      r.language = options->language;
      r.output_variables = options->output_variables;
      r.sensitive_output_variables = options->sensitive_output_variables;
      r.timeout_seconds = options->timeout_seconds;
      r.format = log_format_of(*options);
      r.artifacts_dir = options->artifacts_dir;
      r.fail_on_stderr = options->fail_on_stderr;
      r.masks = options->masks;
      return cuttle::runner::run_script(r);
    }
    return run(*options);
  } catch (const std::exception& ex) {  // environment failures only (e.g. out of memory)
    std::fprintf(stderr, "cuttle: fatal: %s\n", ex.what());
    return exit_error;
  }
}

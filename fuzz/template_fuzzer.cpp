// Fuzzer for the template parser and evaluator. Input: template text, then optionally a NUL byte and
// variables as lines `name=value` (a line without '=' sets a null value). Renders in halting and
// continue mode with modest limits; checks nothing but the absence of crashes, hangs and sanitizer reports.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cuttle/engine.hpp"

namespace {

namespace ce = cuttle::engine;

constexpr std::size_t max_input_bytes = 64 * 1024;

// Parses `name=value` lines into `vars`.
void load_lines(std::string_view text, ce::variables& vars) {
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      vars.set(line, std::nullopt);
    } else {
      vars.set(line.substr(0, eq), std::string(line.substr(eq + 1)));
    }
  }
}

const ce::filter_registry& custom_filters() {
  static const ce::filter_registry registry = [] {
    ce::filter_registry r;
    r.add("Shout",
          [](const std::optional<std::string>& in,
             std::span<const std::string> options) -> std::optional<std::string> {
            if (!in) return std::nullopt;
            std::string out = *in;
            for (const auto& option : options) out += option;
            return out + "!";
          });
    return r;
  }();
  return registry;
}

// Touches everything a caller might read from a render, so lazily computed parts run too.
std::size_t consume(const ce::render_result& result) {
  std::size_t n = result.output ? result.output->size() : 0;
  for (const auto& d : result.diagnostics) n += d.to_string().size();
  return n + result.octostache_error.size();
}

void run(const std::string& text, const ce::variables& vars, bool halt_on_error) {
  ce::parse_options popts;
  popts.source_name = "fuzz";
  popts.halt_on_error = halt_on_error;
  popts.max_template_bytes = max_input_bytes;
  popts.max_nesting_depth = 32;

  ce::render_options ropts;
  ropts.max_iterations = 10'000;
  ropts.max_output_bytes = std::size_t{1} << 20;
  ropts.max_reference_depth = 32;
  ropts.filters = &custom_filters();

  const auto tpl = ce::compiled_template::parse(text, popts);
  volatile std::size_t sink = 0;
  for (const auto& d : tpl.diagnostics()) sink = sink + d.to_string().size();
  sink = sink + tpl.to_string().size() + tpl.argument_names().size() + tpl.source().size();
  sink = sink + (tpl.parse_failed() ? 1 : 0);
  sink = sink + consume(tpl.render(vars, ropts));
  if (halt_on_error) sink = sink + (ce::evaluate_truthy(text, vars, ropts) ? 1 : 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > max_input_bytes) return -1;  // -1: do not add to the corpus
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  const std::string text(input.substr(0, nul));

  ce::variables vars;
  if (nul != std::string_view::npos) load_lines(input.substr(nul + 1), vars);

  run(text, vars, /*halt_on_error=*/true);
  run(text, vars, /*halt_on_error=*/false);
  return 0;
}

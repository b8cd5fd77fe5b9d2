// Fuzzer for variables files: load_variables_json on arbitrary bytes, then a fixed template and a
// reference to each loaded name rendered against the result, with modest limits. Checks nothing but the
// absence of crashes, hangs and sanitizer reports.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cuttle/engine.hpp"

namespace {

namespace ce = cuttle::engine;

constexpr std::size_t max_input_bytes = 64 * 1024;
constexpr std::size_t max_names_referenced = 16;

constexpr std::string_view fixed_template =
    "#{Name} #{Name | ToUpper} #{each x in List}[#{x}]#{/each} #{if Flag}on#{else}off#{/if}\n"
    "#{Config.Logging.Level} #{Config.Regions[0].Name} #{Config[*]} #{Items[#{Key}]}\n"
    "#{Octopus.Action[Deploy].Output.Port} #{calc {Count} * 2 + 1} #{Missing | Replace a b}";

ce::render_options limits() {
  ce::render_options ropts;
  ropts.max_iterations = 10'000;
  ropts.max_output_bytes = std::size_t{1} << 20;
  ropts.max_reference_depth = 32;
  return ropts;
}

std::size_t render_size(const ce::compiled_template& tpl, const ce::variables& vars) {
  const auto result = tpl.render(vars, limits());
  std::size_t n = result.output ? result.output->size() : 0;
  for (const auto& d : result.diagnostics) n += d.to_string().size();
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > max_input_bytes) return -1;  // -1: do not add to the corpus
  const std::string_view json(reinterpret_cast<const char*>(data), size);

  ce::variables vars;
  const auto loaded = ce::load_variables_json(json, "fuzz.json", vars, /*sensitive=*/(size % 2) == 1);
  volatile std::size_t sink = loaded ? loaded.value() : 0;
  for (const auto& d : loaded.diagnostics()) sink = sink + d.to_string().size();
  sink = sink + vars.sensitive_values().size();

  static const auto fixed = ce::compiled_template::parse(std::string(fixed_template));
  sink = sink + render_size(fixed, vars);

  const std::size_t n = std::min(vars.size(), max_names_referenced);
  for (std::size_t i = 0; i < n; ++i) {
    const auto tpl = ce::compiled_template::parse("#{" + vars.entries()[i].name + "}");
    sink = sink + render_size(tpl, vars);
  }
  return 0;
}

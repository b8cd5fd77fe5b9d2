// Engine throughput on the make-workloads.py workloads (flat, rich, passthrough): parsing and rendering are
// measured separately, in bytes of template per second. Data dir: CUTTLE_BENCH_DATA_DIR (set by CMake).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <utility>

#include "cuttle/engine.hpp"

namespace {

namespace ce = cuttle::engine;

struct workload {
  std::string text;
  ce::variables vars;
};

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "render_benchmark: %s\n", message.c_str());
  std::fprintf(
      stderr,
      "render_benchmark: generate the data with `cmake --build <build dir> --target benchmark_data`\n");
  std::exit(2);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Loads `name` once: its template (or input text) and, when it has one, its vars.json.
const workload& get_workload(const std::string& name) {
  static std::map<std::string, workload> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  const std::string dir = std::string(CUTTLE_BENCH_DATA_DIR) + "/" + name + "/";
  workload w;
  if (name == "passthrough") {
    w.text = read_file(dir + "input.txt");
  } else {
    w.text = read_file(dir + "template.octo");
    const std::string json = read_file(dir + "vars.json");
    const auto loaded = ce::load_variables_json(json, dir + "vars.json", w.vars);
    if (!loaded) {
      for (const auto& d : loaded.diagnostics()) std::fprintf(stderr, "%s\n", d.to_string().c_str());
      fail("cannot load " + dir + "vars.json");
    }
  }
  return cache.emplace(name, std::move(w)).first->second;
}

void parse_template(benchmark::State& state, const std::string& name) {
  const workload& w = get_workload(name);
  for (auto _ : state) {
    // parse() takes its text by value; keep the copy out of the measurement.
    state.PauseTiming();
    std::string copy = w.text;
    state.ResumeTiming();
    auto tpl = ce::compiled_template::parse(std::move(copy));
    benchmark::DoNotOptimize(tpl);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(w.text.size()));
}

void render_template(benchmark::State& state, const std::string& name) {
  const workload& w = get_workload(name);
  const auto tpl = ce::compiled_template::parse(w.text);
  std::size_t output_bytes = 0;
  for (auto _ : state) {
    auto result = tpl.render(w.vars);
    output_bytes = result.output ? result.output->size() : 0;
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(w.text.size()));
  state.counters["output_bytes"] = static_cast<double>(output_bytes);
}

BENCHMARK_CAPTURE(parse_template, flat, std::string("flat"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(render_template, flat, std::string("flat"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(parse_template, rich, std::string("rich"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(render_template, rich, std::string("rich"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(parse_template, passthrough, std::string("passthrough"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(render_template, passthrough, std::string("passthrough"))->Unit(benchmark::kMillisecond);

}  // namespace

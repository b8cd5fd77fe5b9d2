// Engine throughput on the make-workloads.py workloads (flat, rich, passthrough): parsing and rendering are
// measured separately, in bytes of template per second. Data dir: CUTTLE_BENCH_DATA_DIR (set by CMake).
//
//   parse_template/W    compiled_template::parse of workload W
//   render_template/W   rendering the parsed template (the AST is reused)
//   evaluate/W          evaluate(): parse and render in one step, what `cuttle render` does in-process
//                       (benchmarks/peers/run.sh compares it with peers' compile-and-render loops)
//   load_variables/bigvars    load_variables_json on bigvars/vars.json (20,000 variables, 13 MB), bytes of
//                             JSON per second
//   load_and_render/bigvars   the same, then the binding tree and a one-line template `#{Name}`
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
  } else if (name == "bigvars") {
    w.text = read_file(dir + "vars.json");  // the variables file itself is the input here
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

// Parse and render in one step from the text in memory (variables already loaded).
void evaluate_template(benchmark::State& state, const std::string& name) {
  const workload& w = get_workload(name);
  std::size_t output_bytes = 0;
  for (auto _ : state) {
    auto result = ce::evaluate(w.text, w.vars);
    output_bytes = result.output ? result.output->size() : 0;
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(w.text.size()));
  state.counters["output_bytes"] = static_cast<double>(output_bytes);
}

ce::variables load_bigvars(const std::string& json) {
  ce::variables vars;
  const auto loaded = ce::load_variables_json(json, "bigvars/vars.json", vars);
  if (!loaded) fail("cannot load bigvars/vars.json");
  return vars;
}

// Loading a 13 MB variables file's text (JSON parsing, 20,000 names indexed case-insensitively).
void load_variables(benchmark::State& state) {
  const workload& w = get_workload("bigvars");
  for (auto _ : state) {
    auto vars = load_bigvars(w.text);
    benchmark::DoNotOptimize(vars);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(w.text.size()));
  state.counters["variables"] = static_cast<double>(load_bigvars(w.text).size());
}

// What `cuttle render --variables bigvars/vars.json` does with a one-line template after reading the file:
// load, build the binding tree (every name parsed as a path) and render `#{Name}`.
void load_and_render(benchmark::State& state) {
  const workload& w = get_workload("bigvars");
  for (auto _ : state) {
    auto vars = load_bigvars(w.text);
    auto result = ce::evaluate("#{Name}\n", vars);
    if (!result.output || *result.output != "Paul\n") fail("bigvars: #{Name} did not render as Paul");
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(w.text.size()));
}

BENCHMARK_CAPTURE(parse_template, flat, std::string("flat"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(render_template, flat, std::string("flat"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(parse_template, rich, std::string("rich"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(render_template, rich, std::string("rich"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(parse_template, passthrough, std::string("passthrough"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(render_template, passthrough, std::string("passthrough"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(evaluate_template, flat, std::string("flat"))
    ->Unit(benchmark::kMillisecond)
    ->Name("evaluate/flat");
BENCHMARK_CAPTURE(evaluate_template, rich, std::string("rich"))
    ->Unit(benchmark::kMillisecond)
    ->Name("evaluate/rich");
BENCHMARK_CAPTURE(evaluate_template, passthrough, std::string("passthrough"))
    ->Unit(benchmark::kMillisecond)
    ->Name("evaluate/passthrough");
BENCHMARK(load_variables)->Unit(benchmark::kMillisecond)->Name("load_variables/bigvars");
BENCHMARK(load_and_render)->Unit(benchmark::kMillisecond)->Name("load_and_render/bigvars");

}  // namespace

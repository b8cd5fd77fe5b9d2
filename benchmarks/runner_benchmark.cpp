// What `cuttle run` costs around a script: loading the variables file, the service-message parser on the
// script's output, the preamble and variables channel per language, and the whole start-up of `cuttle run`.
//
//   load_variable_sources/bigvars   runner::load_variable_sources on bigvars/vars.json (20,000 variables,
//                                   13 MB; reading the file included), bytes of JSON per second
//   service_messages/chunks         message_parser on 8 MB of script output in 64 KiB reads (how the runner
//                                   reads a pipe), 1% of the lines `##octopus[...]` messages, bytes per
//                                   second
//   service_messages/lines          the same output fed one line per call (a script that flushes every line)
//   service_messages/plain          the same size of output without any message: the cost of the '#' scan
//   encode_variables/N              the variables channel's payload for N variables (10, 1,000, 20,000) in
//                                   the shape of bigvars, bytes of payload per second
//   launch/LANG/N                   encode_variables + plan_launch for LANG (everything the runner computes
//                                   before it spawns the interpreter), bytes of payload and files per second
//   run_startup/cuttle_LANG         wall time of one `cuttle run --log-format plain` of a trivial script
//                                   (reads one variable) in bash or python, process start to exit
//   run_startup/bare_LANG           the bare interpreter running an empty script, for comparison
//
// Data dir: CUTTLE_BENCH_DATA_DIR; the cuttle binary: CUTTLE_BINARY (both set by CMake).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/bootstrappers/bootstrap.hpp"
#include "cuttle/engine.hpp"
#include "cuttle/runner/service_messages.hpp"
#include "cuttle/runner/variable_sources.hpp"

extern char** environ;  // NOLINT: POSIX

namespace {

namespace ce = cuttle::engine;
namespace cb = cuttle::bootstrappers;
namespace cr = cuttle::runner;

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "runner_benchmark: %s\n", message.c_str());
  std::exit(2);
}

void set_bytes(benchmark::State& state, std::size_t bytes) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(bytes));
}

// --- loading a variables file ------------------------------------------------------------------------

void BM_load_variable_sources(benchmark::State& state) {
  const std::string path = std::string(CUTTLE_BENCH_DATA_DIR) + "/bigvars/vars.json";
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    fail("cannot read " + path +
         "; generate the data with `cmake --build <build dir> --target benchmark_data`");
  }
  const std::vector<cr::variable_source> sources{{cr::variable_source::kind::file, path}};
  std::size_t count = 0;
  for (auto _ : state) {
    ce::variables vars;
    std::vector<std::string> errors;
    if (!cr::load_variable_sources(sources, vars, errors)) fail("cannot load " + path);
    count = vars.size();
    benchmark::DoNotOptimize(vars);
  }
  set_bytes(state, static_cast<std::size_t>(size));
  state.counters["variables"] = static_cast<double>(count);
}

// --- service messages --------------------------------------------------------------------------------

constexpr std::size_t output_bytes = 8'000'000;

std::string log_word(std::mt19937& rng) {
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789-_/.:";
  std::string s;
  const std::size_t n = 2 + rng() % 10;
  for (std::size_t k = 0; k < n; ++k) s += alphabet[rng() % (sizeof alphabet - 1)];
  return s;
}

// A deployment script's output: lines of 6 to 17 words, with a '#' now and then (comments echoed, "##"
// headings), and one line in 100 a service message of the kinds the helpers write.
struct script_output {
  std::string text;
  std::vector<std::size_t> line_ends;
  std::size_t messages = 0;
};

const script_output& get_output(bool with_messages) {
  static script_output cache[2];
  script_output& out = cache[with_messages ? 1 : 0];
  if (!out.text.empty()) return out;
  std::mt19937 rng(5);
  for (std::size_t line = 0; out.text.size() < output_bytes; ++line) {
    std::string l;
    if (with_messages && line % 100 == 99) {
      const auto b64 = [](std::string_view s) {
        std::string quoted(1, '\'');
        quoted += cr::encode_base64(s);
        quoted += '\'';
        return quoted;
      };
      switch ((line / 100) % 5) {
        case 0:
          l = "##octopus[setVariable name=" + b64("Output" + std::to_string(line)) +
              " value=" + b64(log_word(rng) + " " + log_word(rng)) + "]";
          break;
        case 1:
          l = "##octopus[progress percentage=" + b64(std::to_string(line % 101)) +
              " message=" + b64("deploying " + log_word(rng)) + "]";
          break;
        case 2:
          l = "##octopus[stdout-verbose]";
          break;
        case 3:
          l = "##octopus[stdout-default]";
          break;
        default:
          l = "##octopus[createArtifact path=" + b64("/tmp/" + log_word(rng) + ".log") +
              " name=" + b64(log_word(rng)) + " length=" + b64("1024") + "]";
          break;
      }
      ++out.messages;
    } else {
      const std::size_t words = 6 + rng() % 12;
      for (std::size_t k = 0; k < words; ++k) {
        if (k) l += ' ';
        l += (rng() % 40 == 0) ? "#" : log_word(rng);
      }
      if (line % 37 == 0) l.insert(0, "## ");
    }
    out.text += l;
    out.text += '\n';
    out.line_ends.push_back(out.text.size());
  }
  return out;
}

struct counting_handler {
  std::size_t text_bytes = 0;
  std::size_t messages = 0;
  std::size_t malformed_count = 0;
  void text(std::string_view t) { text_bytes += t.size(); }
  void message(const cr::service_message& m) {
    messages += 1;
    benchmark::DoNotOptimize(m.name.data());
  }
  void malformed(std::string_view, std::string_view) { ++malformed_count; }
};

void check(const script_output& out, const counting_handler& h) {
  if (h.messages != out.messages || h.malformed_count != 0) {
    fail("service_messages: found " + std::to_string(h.messages) + " messages (" +
         std::to_string(h.malformed_count) + " malformed), expected " + std::to_string(out.messages));
  }
}

void BM_messages_chunks(benchmark::State& state, bool with_messages) {
  const auto& out = get_output(with_messages);
  const std::string_view text = out.text;
  constexpr std::size_t chunk = 64 * 1024;
  counting_handler h;
  for (auto _ : state) {
    h = {};
    cr::message_parser parser;
    for (std::size_t at = 0; at < text.size(); at += chunk) parser.feed(text.substr(at, chunk), h);
    parser.finish(h);
  }
  check(out, h);
  set_bytes(state, text.size());
  state.counters["messages"] = static_cast<double>(h.messages);
}

void BM_messages_lines(benchmark::State& state) {
  const auto& out = get_output(true);
  const std::string_view text = out.text;
  counting_handler h;
  for (auto _ : state) {
    h = {};
    cr::message_parser parser;
    std::size_t at = 0;
    for (const std::size_t end : out.line_ends) {
      parser.feed(text.substr(at, end - at), h);
      at = end;
    }
    parser.finish(h);
  }
  check(out, h);
  set_bytes(state, text.size());
}

// --- preambles and the variables channel ---------------------------------------------------------------

// N variables in the shape of make-workloads.py's bigvars: long Octopus-style names, values of 8 to 2,048
// characters including quotes, '$', '`' and '\' (what a preamble must not break on), plus Name.
const ce::variables& get_vars(std::size_t n) {
  static std::map<std::size_t, ce::variables> cache;
  if (auto it = cache.find(n); it != cache.end()) return it->second;
  std::mt19937 rng(3);
  static constexpr std::string_view alphabet =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,'\"$`\\";
  static constexpr std::size_t sizes[] = {8, 16, 64, 256, 1024, 2048};
  ce::variables vars;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    std::string value;
    const std::size_t size = sizes[rng() % 6];
    for (std::size_t k = 0; k < size; ++k) value += alphabet[rng() % alphabet.size()];
    vars.set("Octopus.Deployment.Changes[" + std::to_string(i) + "].Commits[0].Comment", std::move(value));
  }
  vars.set("Name", "Paul");
  return cache.emplace(n, std::move(vars)).first->second;
}

void BM_encode_variables(benchmark::State& state) {
  const auto& vars = get_vars(static_cast<std::size_t>(state.range(0)));
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto encoded = cb::encode_variables(vars);
    if (!encoded.error.empty()) fail("encode_variables: " + encoded.error);
    bytes = encoded.data.size();
    benchmark::DoNotOptimize(encoded);
  }
  set_bytes(state, bytes);
  state.counters["payload_bytes"] = static_cast<double>(bytes);
}

void BM_launch(benchmark::State& state, cb::language lang) {
  if (!cb::is_supported(lang)) {
    state.SkipWithError("this build cannot generate a preamble for this language");
    return;
  }
  const auto& vars = get_vars(static_cast<std::size_t>(state.range(0)));
  const std::string script = std::string("/tmp/deploy.") + (lang == cb::language::bash     ? "sh"
                                                            : lang == cb::language::python ? "py"
                                                            : lang == cb::language::csharp ? "csx"
                                                            : lang == cb::language::fsharp ? "fsx"
                                                                                           : "ps1");
  const std::vector<std::string> args;
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto encoded = cb::encode_variables(vars);
    auto plan = cb::plan_launch(lang, script, args, vars);
    bytes = encoded.data.size();
    for (const auto& f : plan.files) bytes += f.content.size();
    benchmark::DoNotOptimize(encoded);
    benchmark::DoNotOptimize(plan);
  }
  set_bytes(state, bytes);
}

// --- `cuttle run` start-up ---------------------------------------------------------------------------

// A private directory with the scripts, removed at exit.
struct scripts_directory {
  std::string path;
  scripts_directory() {
    path = (std::filesystem::temp_directory_path() / "cuttle-runner-bench.XXXXXX").string();
    if (mkdtemp(path.data()) == nullptr) fail("cannot create a temporary directory");
    const auto write = [&](const char* name, const char* text) { std::ofstream(path + "/" + name) << text; };
    write("read.sh", "x=$(get_octopusvariable Name)\n");
    write("read.py", "x = get_octopusvariable(\"Name\")\n");
    write("empty.sh", "");
    write("empty.py", "");
  }
  scripts_directory(const scripts_directory&) = delete;
  scripts_directory& operator=(const scripts_directory&) = delete;
  ~scripts_directory() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

const std::string& scripts_dir() {
  static const scripts_directory dir;
  return dir.path;
}

// Spawns argv (argv[0] looked up on PATH) with stdout and stderr on /dev/null and waits; returns the
// exit status.
int spawn_and_wait(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));  // NOLINT: POSIX API
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) fail("cannot start " + argv[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void run_process(benchmark::State& state, const std::vector<std::string>& argv) {
  if (const int code = spawn_and_wait(argv); code != 0) {  // also a warm-up run
    state.SkipWithError(("exit status " + std::to_string(code) + " from " + argv[0]).c_str());
    return;
  }
  for (auto _ : state) {
    const int code = spawn_and_wait(argv);
    if (code != 0) {
      state.SkipWithError(("exit status " + std::to_string(code)).c_str());
      break;
    }
  }
}

void BM_run_cuttle(benchmark::State& state, const std::string& ext) {
  run_process(state, {CUTTLE_BINARY, "run", "--log-format", "plain", "--set", "Name=World",
                      scripts_dir() + "/read." + ext});
}

void BM_run_bare(benchmark::State& state, const std::string& interpreter, const std::string& ext) {
  run_process(state, {interpreter, scripts_dir() + "/empty." + ext});
}

// --- registration --------------------------------------------------------------------------------------

BENCHMARK(BM_load_variable_sources)->Unit(benchmark::kMillisecond)->Name("load_variable_sources/bigvars");

BENCHMARK_CAPTURE(BM_messages_chunks, with_messages, true)
    ->Unit(benchmark::kMillisecond)
    ->Name("service_messages/chunks");
BENCHMARK(BM_messages_lines)->Unit(benchmark::kMillisecond)->Name("service_messages/lines");
BENCHMARK_CAPTURE(BM_messages_chunks, plain, false)
    ->Unit(benchmark::kMillisecond)
    ->Name("service_messages/plain");

BENCHMARK(BM_encode_variables)
    ->Arg(10)
    ->Arg(1000)
    ->Arg(20000)
    ->Unit(benchmark::kMicrosecond)
    ->Name("encode_variables");
BENCHMARK_CAPTURE(BM_launch, bash, cb::language::bash)
    ->Arg(10)
    ->Arg(1000)
    ->Arg(20000)
    ->Unit(benchmark::kMicrosecond)
    ->Name("launch/bash");
BENCHMARK_CAPTURE(BM_launch, python, cb::language::python)
    ->Arg(10)
    ->Arg(1000)
    ->Arg(20000)
    ->Unit(benchmark::kMicrosecond)
    ->Name("launch/python");
BENCHMARK_CAPTURE(BM_launch, csharp, cb::language::csharp)
    ->Arg(10)
    ->Arg(1000)
    ->Arg(20000)
    ->Unit(benchmark::kMicrosecond)
    ->Name("launch/csharp");
BENCHMARK_CAPTURE(BM_launch, fsharp, cb::language::fsharp)
    ->Arg(10)
    ->Arg(1000)
    ->Arg(20000)
    ->Unit(benchmark::kMicrosecond)
    ->Name("launch/fsharp");
BENCHMARK_CAPTURE(BM_launch, powershell, cb::language::powershell)
    ->Arg(10)
    ->Arg(1000)
    ->Arg(20000)
    ->Unit(benchmark::kMicrosecond)
    ->Name("launch/powershell");

// Whole processes: real time, a fixed number of runs so the suite stays short.
BENCHMARK_CAPTURE(BM_run_cuttle, bash, std::string("sh"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(20)
    ->Name("run_startup/cuttle_bash");
BENCHMARK_CAPTURE(BM_run_bare, bash, std::string("bash"), std::string("sh"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(20)
    ->Name("run_startup/bare_bash");
BENCHMARK_CAPTURE(BM_run_cuttle, python, std::string("py"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(20)
    ->Name("run_startup/cuttle_python");
BENCHMARK_CAPTURE(BM_run_bare, python, std::string("python3"), std::string("py"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(20)
    ->Name("run_startup/bare_python");

}  // namespace

// Masker throughput against the number of secrets (1, 100, 1,000, 10,000) on the `mask` workload shape of
// make-workloads.py, generated in-process: about 11 MB of log lines of 12 random words, one line in 500
// ending with a secret. Reports bytes of input per second; docs/masking.md records the numbers.
//
//   stream/N        a mask_stream fed 64 KiB writes (how the runner masks a child's output)
//   bulk/N          a mask_bulk_stream fed 64 KiB writes (how `cuttle mask` masks a file, on one thread)
//   stream_lines/N  the same as stream, one write per line (about 90 bytes): the per-write overhead
//   clean/N         the log without the secret lines: nothing to mask
//   utf8/N          non-ASCII text: no byte can start a secret
//   short/N         secrets of 4 to 7 characters instead of 8 to 40: the prefilter tests every position
//   one_shot/N      masker::mask on the whole log
//   pieces/N        masker::mask_pieces on the whole log, two threads; wall time
//   build/N         building the masker (counter: patterns)
//   naive/N         std::string::find per secret, the shape of per-value maskers, for comparison
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cuttle/engine.hpp"

namespace {

namespace ce = cuttle::engine;

constexpr std::size_t log_lines = 120'000;

struct workload {
  std::vector<std::string> secrets;
  std::string log;    // with secrets
  std::string clean;  // the same lines without secrets
  std::string utf8;   // Cyrillic words, no ASCII letters
  std::vector<std::size_t> line_ends;
  std::shared_ptr<const ce::masker> masker;
};

std::string token(std::mt19937& rng, std::size_t n) {
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string s;
  for (std::size_t k = 0; k < n; ++k) s += alphabet[rng() % 62];
  return s;
}

const workload& get_workload(std::size_t secret_count, bool short_secrets = false) {
  static std::map<std::pair<std::size_t, bool>, workload> cache;
  const auto key = std::make_pair(secret_count, short_secrets);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  workload w;
  std::mt19937 rng(1);
  std::vector<std::string> words;
  for (int k = 0; k < 5000; ++k) words.push_back(token(rng, 3 + rng() % 8));
  for (std::size_t k = 0; k < secret_count; ++k) {
    w.secrets.push_back(short_secrets ? token(rng, 4 + rng() % 4) : token(rng, 8 + rng() % 33));
  }
  static const std::vector<std::string> cyrillic = {
      "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", "\xd0\xbc\xd0\xb8\xd1\x80",
      "\xd0\xb6\xd1\x83\xd1\x80\xd0\xbd\xd0\xb0\xd0\xbb",
      "\xd1\x81\xd0\xbe\xd0\xb1\xd1\x8b\xd1\x82\xd0\xb8\xd0\xb5"};
  for (std::size_t i = 0; i < log_lines; ++i) {
    std::string line;
    for (int k = 0; k < 12; ++k) line += (k ? " " : "") + words[rng() % words.size()];
    w.clean += line + "\n";
    if (i % 500 == 0) line += " " + w.secrets[rng() % w.secrets.size()];
    w.log += line + "\n";
    w.line_ends.push_back(w.log.size());
  }
  while (w.utf8.size() < w.log.size()) {
    for (int k = 0; k < 12; ++k) w.utf8 += (k ? " " : "") + cyrillic[rng() % cyrillic.size()];
    w.utf8 += "\n";
  }
  w.masker = ce::masker::make(w.secrets);
  return cache.emplace(key, std::move(w)).first->second;
}

void report(benchmark::State& state, const workload& w, std::size_t bytes) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(bytes));
  state.counters["patterns"] = static_cast<double>(w.masker->pattern_count());
}

template <class Stream = ce::mask_stream>
void stream_text(benchmark::State& state, const workload& w, std::string_view text) {
  std::string out;
  out.reserve(text.size() + 4096);
  constexpr std::size_t chunk = 64 * 1024;
  for (auto _ : state) {
    out.clear();
    Stream stream(w.masker);
    for (std::size_t at = 0; at < text.size(); at += chunk) stream.write(text.substr(at, chunk), out);
    stream.finish(out);
    benchmark::DoNotOptimize(out.data());
  }
  report(state, w, text.size());
}

void BM_stream(benchmark::State& state) {
  const auto& w = get_workload(static_cast<std::size_t>(state.range(0)));
  stream_text(state, w, w.log);
}

void BM_bulk(benchmark::State& state) {
  const auto& w = get_workload(static_cast<std::size_t>(state.range(0)));
  stream_text<ce::mask_bulk_stream>(state, w, w.log);
}

void BM_clean(benchmark::State& state) {
  const auto& w = get_workload(static_cast<std::size_t>(state.range(0)));
  stream_text(state, w, w.clean);
}

void BM_utf8(benchmark::State& state) {
  const auto& w = get_workload(static_cast<std::size_t>(state.range(0)));
  stream_text(state, w, w.utf8);
}

void BM_short(benchmark::State& state) {
  const auto& w = get_workload(static_cast<std::size_t>(state.range(0)), true);
  stream_text(state, w, w.log);
}

void BM_stream_lines(benchmark::State& state) {
  const auto& w = get_workload(static_cast<std::size_t>(state.range(0)));
  const std::string_view text = w.log;
  std::string out;
  out.reserve(text.size() + 4096);
  for (auto _ : state) {
    out.clear();
    ce::mask_stream stream(w.masker);
    std::size_t at = 0;
    for (const std::size_t end : w.line_ends) {
      stream.write(text.substr(at, end - at), out);
      at = end;
    }
    stream.finish(out);
    benchmark::DoNotOptimize(out.data());
  }
  report(state, w, text.size());
}

void BM_one_shot(benchmark::State& state) {
  const auto& w = get_workload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto out = w.masker->mask(w.log);
    benchmark::DoNotOptimize(out.data());
  }
  report(state, w, w.log.size());
}

void BM_pieces(benchmark::State& state) {
  const auto& w = get_workload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    std::size_t bytes = 0;
    w.masker->mask_pieces(
        w.log,
        [&bytes](std::string_view piece) {
          bytes += piece.size();
          return true;
        },
        2);
    benchmark::DoNotOptimize(bytes);
  }
  report(state, w, w.log.size());
}

void BM_build(benchmark::State& state) {
  const auto& w = get_workload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto m = ce::masker::make(w.secrets);
    benchmark::DoNotOptimize(m.get());
  }
  state.counters["patterns"] = static_cast<double>(w.masker->pattern_count());
}

// One std::string::find pass per secret over the text, replacing as it goes (longest secrets first).
void BM_naive(benchmark::State& state) {
  const auto& w = get_workload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    std::string out = w.log;
    for (const auto& secret : w.secrets) {
      for (auto at = out.find(secret); at != std::string::npos; at = out.find(secret, at + 8)) {
        out.replace(at, secret.size(), "********");
      }
    }
    benchmark::DoNotOptimize(out.data());
  }
  report(state, w, w.log.size());
}

void secret_counts(benchmark::internal::Benchmark* b) {
  for (const int n : {1, 100, 1000, 10000}) b->Arg(n);
  b->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_stream)->Apply(secret_counts)->Name("stream");
BENCHMARK(BM_bulk)->Apply(secret_counts)->Name("bulk");
BENCHMARK(BM_stream_lines)->Apply(secret_counts)->Name("stream_lines");
BENCHMARK(BM_clean)->Apply(secret_counts)->Name("clean");
BENCHMARK(BM_utf8)->Apply(secret_counts)->Name("utf8");
BENCHMARK(BM_short)->Apply(secret_counts)->Name("short");
BENCHMARK(BM_one_shot)->Apply(secret_counts)->Name("one_shot");
BENCHMARK(BM_pieces)->Apply(secret_counts)->UseRealTime()->Name("pieces");
BENCHMARK(BM_build)->Apply(secret_counts)->Name("build");
BENCHMARK(BM_naive)->Arg(1)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->Name("naive");

}  // namespace

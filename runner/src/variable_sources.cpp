// Loading --variables / --sensitive-variables / --set in command-line order, and masking secrets in text.
// Tested by tests/runner/cli_test.cpp and tests/runner/run_messages_test.cpp

#include "cuttle/runner/variable_sources.hpp"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>

#include "cuttle/engine/masker.hpp"
#include "cuttle/engine/memory.hpp"
#include "cuttle/runner/files.hpp"

namespace cuttle::runner {
namespace {

/// Before a large variables file is parsed: lets the heap grow in transparent huge pages. Its values are
/// copied onto the heap, and in 4 KiB pages every page costs a fault: for the 13 MB bigvars file that was
/// 6,000 faults and about 40% of `cuttle eval`'s CPU time on the development machine (docs/performance.md).
/// Large blocks stay on the heap (no mmap per block), the heap grows in one step sized for the file and is
/// not trimmed, and that range is marked MADV_HUGEPAGE. Best effort: a failed call changes nothing but
/// the speed, and a replaced allocator (the sanitizers') leaves the program break alone.
void prepare_heap_for(std::size_t file_size) {
  constexpr std::size_t large_file = std::size_t{4} << 20U;
  static std::atomic_flag prepared = ATOMIC_FLAG_INIT;
  if (file_size < large_file || prepared.test_and_set()) return;
  const std::size_t grow = file_size * 3;
  ::mallopt(M_MMAP_THRESHOLD, 64 << 20);
  ::mallopt(M_TRIM_THRESHOLD, static_cast<int>(std::min<std::size_t>(grow * 2, INT_MAX)));
  ::mallopt(M_TOP_PAD, static_cast<int>(std::min<std::size_t>(grow, INT_MAX)));
  auto* const before = static_cast<char*>(::sbrk(0));
  void* volatile probe = std::malloc(file_size);  // makes the heap grow by file_size + grow now
  std::free(probe);                               // (volatile: the pair must not be optimised away)
  auto* const after = static_cast<char*>(::sbrk(0));
  if (before != reinterpret_cast<char*>(-1) && after > before &&
      static_cast<std::size_t>(after - before) < grow * 4)
    engine::advise_huge_pages(before, static_cast<std::size_t>(after - before));
}

}  // namespace

engine::variables& process_lifetime_variables() {
  static std::mutex lock;
  static auto* const kept = new std::deque<engine::variables>();  // never freed, always reachable
  const std::lock_guard<std::mutex> hold(lock);
  return kept->emplace_back();
}

bool load_variable_sources(const std::vector<variable_source>& sources, engine::variables& vars,
                           std::vector<std::string>& errors) {
  const auto before = errors.size();
  for (const auto& s : sources) {
    if (s.type == variable_source::kind::assignment) {
      const auto eq = s.argument.find('=');
      if (eq == std::string::npos) {
        errors.push_back("--set '" + s.argument + "': expected NAME=VALUE");
        continue;
      }
      vars.set(s.argument.substr(0, eq), s.argument.substr(eq + 1));
      continue;
    }
    file_contents file;  // mapped, not copied: a variables file can be tens of megabytes
    if (auto err = file.open(s.argument)) {
      errors.push_back("error: " + *err);
      continue;
    }
    prepare_heap_for(file.view().size());
    const auto loaded = engine::load_variables_json(file.view(), s.argument, vars,
                                                    s.type == variable_source::kind::sensitive_file);
    for (const auto& d : loaded.diagnostics()) errors.push_back(d.to_string());
  }
  return errors.size() == before;
}

std::string mask_secrets(std::string_view text, const std::vector<std::string>& secrets) {
  // The same masker as cuttle run's output (encodings, minimum length, one replacement per run of
  // masked bytes); built once per set of secrets, since diagnostics come one line at a time.
  thread_local std::vector<std::string> cached_secrets;
  thread_local std::shared_ptr<const engine::masker> cached;
  if (!cached || cached_secrets != secrets) {
    cached = engine::masker::make(secrets);
    cached_secrets = secrets;
  }
  return cached->mask(text);
}

}  // namespace cuttle::runner

// Memory advice shared by the engine and the runner: transparent huge pages for buffers filled once.
// Tested by tests/engine/memory_test.cpp

#include "cuttle/engine/memory.hpp"

#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace cuttle::engine {

bool advise_huge_pages([[maybe_unused]] void* data, [[maybe_unused]] std::size_t size) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t huge = huge_page_bytes;
  const auto at = reinterpret_cast<std::uintptr_t>(data);
  const auto begin = (at + huge - 1) & ~(huge - 1);
  const auto end = (at + size) & ~(huge - 1);
  return end > begin && ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE) == 0;
#else
  return false;
#endif
}

}  // namespace cuttle::engine

#include "cuttle/engine/memory.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <fstream>
#include <string>

namespace {

// The VmFlags line of the /proc/self/smaps entry that contains `at`.
std::string vm_flags_of(const void* at) {
  std::ifstream smaps("/proc/self/smaps");
  const auto address = reinterpret_cast<std::uintptr_t>(at);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    std::uintptr_t low = 0;
    std::uintptr_t high = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &low, &high) == 2 && line.find(' ') > line.find('-')) {
      inside = address >= low && address < high;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return {};
}

bool transparent_huge_pages_available() {
  std::ifstream enabled("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  return std::getline(enabled, mode) && mode.find("[never]") == std::string::npos;
}

TEST(memory, advises_only_the_whole_huge_pages_inside_the_range) {
  if (!transparent_huge_pages_available())
    GTEST_SKIP() << "SKIPPED: transparent huge pages are disabled here";
  constexpr std::size_t size = 8 * cuttle::engine::huge_page_bytes;
  void* raw = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(raw, MAP_FAILED);
  auto* bytes = static_cast<char*>(raw);
  // An unaligned start: the advice must begin at the next 2 MiB boundary and leave the head alone.
  const auto base = reinterpret_cast<std::uintptr_t>(bytes);
  const auto aligned = (base + cuttle::engine::huge_page_bytes - 1) & ~(cuttle::engine::huge_page_bytes - 1);
  char* start = bytes + (aligned - base) + 4096;  // 4 KiB past a boundary
  ASSERT_TRUE(cuttle::engine::advise_huge_pages(start, 3 * cuttle::engine::huge_page_bytes));
  const char* first_whole = start - 4096 + cuttle::engine::huge_page_bytes;
  EXPECT_NE(vm_flags_of(first_whole).find(" hg"), std::string::npos) << vm_flags_of(first_whole);
  EXPECT_EQ(vm_flags_of(start).find(" hg"), std::string::npos) << vm_flags_of(start);
  ::munmap(raw, size);
}

TEST(memory, a_range_without_a_whole_huge_page_is_not_advised) {
  alignas(4096) static char small[64 * 1024];
  EXPECT_FALSE(cuttle::engine::advise_huge_pages(small, sizeof small));
  EXPECT_FALSE(cuttle::engine::advise_huge_pages(nullptr, 0));
}

}  // namespace

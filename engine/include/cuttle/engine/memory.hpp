// Memory advice shared by the engine and the runner.
#pragma once

#include <cstddef>

namespace cuttle::engine {

/// Size of a transparent huge page on x86-64 Linux.
inline constexpr std::size_t huge_page_bytes = std::size_t{2} << 20U;

/// Asks the kernel to back the whole 2 MiB pages inside [data, data + size) with transparent huge pages.
/// A buffer filled front to back once takes one fault per 2 MiB instead of one per 4 KiB (thousands for a
/// file of a few megabytes). Best effort: returns false when nothing was advised (range too small, no
/// Linux, or the call failed) and that changes nothing but the speed.
bool advise_huge_pages(void* data, std::size_t size) noexcept;

}  // namespace cuttle::engine

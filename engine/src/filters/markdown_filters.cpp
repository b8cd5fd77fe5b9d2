// Built-in filters: markdown family (spec §9). Placeholder until implemented.
// Tested by tests/engine/filters_markdown_test.cpp

#include "filters/filter_api.hpp"

namespace cuttle::engine::detail {

std::span<const builtin_entry> markdown_filters() { return {}; }

}  // namespace cuttle::engine::detail

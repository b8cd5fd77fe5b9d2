// Built-in filters: text family (spec §9). Placeholder until implemented.
// Tested by tests/engine/filters_text_test.cpp

#include "filters/filter_api.hpp"

namespace cuttle::engine::detail {

std::span<const builtin_entry> text_filters() { return {}; }

}  // namespace cuttle::engine::detail

// Built-in filters: escape family (spec §9). Placeholder until implemented.
// Tested by tests/engine/filters_escape_test.cpp

#include "filters/filter_api.hpp"

namespace cuttle::engine::detail {

std::span<const builtin_entry> escape_filters() { return {}; }

}  // namespace cuttle::engine::detail

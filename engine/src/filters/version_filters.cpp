// Built-in filters: version family (spec §9). Placeholder until implemented.
// Tested by tests/engine/filters_version_test.cpp

#include "filters/filter_api.hpp"

namespace cuttle::engine::detail {

std::span<const builtin_entry> version_filters() { return {}; }

}  // namespace cuttle::engine::detail

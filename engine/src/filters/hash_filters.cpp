// Built-in filters: hash family (spec §9). Placeholder until implemented.
// Tested by tests/engine/filters_hash_test.cpp

#include "filters/filter_api.hpp"

namespace cuttle::engine::detail {

std::span<const builtin_entry> hash_filters() { return {}; }

}  // namespace cuttle::engine::detail

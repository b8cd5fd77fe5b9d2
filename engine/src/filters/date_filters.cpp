// Built-in filters: date family (spec §9). Placeholder until implemented.
// Tested by tests/engine/filters_date_test.cpp

#include "filters/filter_api.hpp"

namespace cuttle::engine::detail {

std::span<const builtin_entry> date_filters() { return {}; }

}  // namespace cuttle::engine::detail

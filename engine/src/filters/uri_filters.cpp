// Built-in filters: uri family (spec §9). Placeholder until implemented.
// Tested by tests/engine/filters_uri_test.cpp

#include "filters/filter_api.hpp"

namespace cuttle::engine::detail {

std::span<const builtin_entry> uri_filters() { return {}; }

}  // namespace cuttle::engine::detail

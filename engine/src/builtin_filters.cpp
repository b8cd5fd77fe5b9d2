// The built-in filter table (spec §9): the case filters, Trim and null are defined here; the other families
// live in filters/*.cpp and are merged into one sorted table on first use.
// Tested by tests/engine/evaluator_test.cpp and tests/engine/conformance_test.cpp

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

#include "filters/filter_api.hpp"
#include "unicode.hpp"

namespace cuttle::engine::detail {
namespace {

using result_t = std::optional<std::string>;

// ToUpper / ToLower: any option, or null input -> null.
result_t to_upper_filter(filter_args& a) {
  if (!a.input || !a.options.empty()) return std::nullopt;
  return to_upper(*a.input);
}
result_t to_lower_filter(filter_args& a) {
  if (!a.input || !a.options.empty()) return std::nullopt;
  return to_lower(*a.input);
}

// Trim [start|end]: no option trims both ends; later options are ignored.
result_t trim_filter(filter_args& a) {
  if (!a.input) return std::nullopt;
  if (a.options.empty()) return std::string(trim(*a.input));
  if (ascii_iequals(a.options[0], "start")) return std::string(trim_start(*a.input));
  if (ascii_iequals(a.options[0], "end")) return std::string(trim_end(*a.input));
  return std::nullopt;
}

// null: always no value.
result_t null_filter(filter_args&) { return std::nullopt; }

constexpr std::array<builtin_entry, 4> case_table{{
    {"null", null_filter},
    {"tolower", to_lower_filter},
    {"toupper", to_upper_filter},
    {"trim", trim_filter},
}};

// All families merged and sorted by name (built once; the tables are constant).
const std::vector<builtin_entry>& all_builtins() {
  static const std::vector<builtin_entry> table = [] {
    std::vector<builtin_entry> t;
    for (auto family : {case_filters(), escape_filters(), hash_filters(), text_filters(), date_filters(),
                        version_filters(), markdown_filters(), uri_filters()}) {
      t.insert(t.end(), family.begin(), family.end());
    }
    std::sort(t.begin(), t.end(),
              [](const builtin_entry& a, const builtin_entry& b) { return a.lower_name < b.lower_name; });
    return t;
  }();
  return table;
}

}  // namespace

std::span<const builtin_entry> case_filters() { return case_table; }

builtin_filter find_builtin_filter(std::string_view lower_name) {
  const auto& table = all_builtins();
  auto it = std::lower_bound(table.begin(), table.end(), lower_name,
                             [](const builtin_entry& e, std::string_view n) { return e.lower_name < n; });
  return it != table.end() && it->lower_name == lower_name ? it->fn : nullptr;
}

}  // namespace cuttle::engine::detail

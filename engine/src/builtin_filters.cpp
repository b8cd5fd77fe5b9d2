// The built-in filter table. This version implements the case filters, Trim and null; the complete
// Octostache library (spec §9) is the next milestone, and its other names are known so diagnostics can
// say "not implemented yet" rather than "unknown".
// Tested by tests/engine/evaluator_test.cpp and tests/engine/conformance_test.cpp

#include <algorithm>
#include <array>
#include <string_view>

#include "evaluator.hpp"
#include "unicode.hpp"

namespace cuttle::engine::detail {
namespace {

using input_t = std::optional<std::string>;
using options_t = std::vector<std::string>;

// ToUpper / ToLower: any option, or null input -> null.
input_t to_upper_filter(const input_t& in, const options_t& opts) {
  if (!in || !opts.empty()) return std::nullopt;
  return to_upper(*in);
}
input_t to_lower_filter(const input_t& in, const options_t& opts) {
  if (!in || !opts.empty()) return std::nullopt;
  return to_lower(*in);
}

// Trim [start|end]: no option trims both ends; later options are ignored.
input_t trim_filter(const input_t& in, const options_t& opts) {
  if (!in) return std::nullopt;
  if (opts.empty()) return std::string(trim(*in));
  if (ascii_iequals(opts[0], "start")) return std::string(trim_start(*in));
  if (ascii_iequals(opts[0], "end")) return std::string(trim_end(*in));
  return std::nullopt;
}

// null: always no value.
input_t null_filter(const input_t&, const options_t&) { return std::nullopt; }

struct entry {
  std::string_view name;
  builtin_filter fn;
};

constexpr std::array<entry, 4> builtins{{
    {"null", null_filter},
    {"tolower", to_lower_filter},
    {"toupper", to_upper_filter},
    {"trim", trim_filter},
}};

// Every Octostache filter name (46 names for 45 functions).
constexpr std::array<std::string_view, 46> octostache_names{"tolower",
                                                            "toupper",
                                                            "tobase64",
                                                            "frombase64",
                                                            "htmlescape",
                                                            "uriescape",
                                                            "uridataescape",
                                                            "xmlescape",
                                                            "jsonescape",
                                                            "yamlsinglequoteescape",
                                                            "yamldoublequoteescape",
                                                            "propertieskeyescape",
                                                            "propertiesvalueescape",
                                                            "markdown",
                                                            "markdowntohtml",
                                                            "nowdate",
                                                            "nowdateutc",
                                                            "addhours",
                                                            "adddays",
                                                            "format",
                                                            "match",
                                                            "replace",
                                                            "startswith",
                                                            "endswith",
                                                            "contains",
                                                            "substring",
                                                            "truncate",
                                                            "trim",
                                                            "indent",
                                                            "uripart",
                                                            "versionmajor",
                                                            "versionminor",
                                                            "versionpatch",
                                                            "versionprerelease",
                                                            "versionprereleaseprefix",
                                                            "versionprereleasecounter",
                                                            "versionrevision",
                                                            "versionmetadata",
                                                            "append",
                                                            "prepend",
                                                            "md5",
                                                            "sha1",
                                                            "sha256",
                                                            "sha384",
                                                            "sha512",
                                                            "null"};

}  // namespace

builtin_filter find_builtin_filter(std::string_view lower_name) {
  for (const auto& e : builtins) {
    if (e.name == lower_name) return e.fn;
  }
  return nullptr;
}

bool is_octostache_filter_name(std::string_view lower_name) {
  return std::find(octostache_names.begin(), octostache_names.end(), lower_name) != octostache_names.end();
}

}  // namespace cuttle::engine::detail

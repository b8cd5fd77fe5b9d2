// JSON as Octostache sees it: a lenient reader (Newtonsoft accepts unquoted names, single quotes and
// comments), the text of scalars, compact re-serialisation, and the strict variables-file reader.
#pragma once

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace cuttle::engine::detail {

using json = nlohmann::ordered_json;

/// Parses a top-level object or array leniently; nullopt for anything else or on error.
std::optional<json> parse_lenient_json(std::string_view text, int max_depth = 256);

/// Scalars as Newtonsoft converts them to strings: "True"/"False", "" for null, shortest doubles.
std::string json_scalar_text(const json& value);

/// Compact JSON text as Newtonsoft writes it (no whitespace, minimal escaping, non-ASCII raw).
std::string compact_json(const json& value);

/// Error of read_variables_object.
struct json_error {
  std::size_t offset = 0;
  std::string message;
};

/// Reads a strict JSON object `name -> value` and calls `on_entry(name, value)` for each member in order:
/// strings as decoded, null as nullopt, and other values as their source text with insignificant
/// whitespace removed. Returns the error, if any.
std::optional<json_error> read_variables_object(
    std::string_view text, const std::function<void(std::string&&, std::optional<std::string>&&)>& on_entry);

}  // namespace cuttle::engine::detail

// The interface between the evaluator and the built-in filters (spec §9). Each family of filters lives in
// its own file and exposes a table of (lower-case name, function) entries; builtin_filters.cpp merges them.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/engine/options.hpp"

namespace cuttle::engine::detail {

/// Everything a built-in filter sees for one call.
struct filter_args {
  /// The left-hand side's value; nullopt when it is missing or the previous filter gave no value.
  const std::optional<std::string>& input;
  /// The option strings, already evaluated.
  const std::vector<std::string>& options;
  /// Render options: the injectable clock and time zone (date filters), limits.
  const render_options& render;
  /// A filter that rejects its input where Octostache would throw (invalid base64, invalid regex, an
  /// unparseable version...) returns nullopt and explains why here; the evaluator reports it as E004
  /// `filter_failed` with the token's line and column. Left empty for ordinary "no value" results.
  std::string failure;
};

/// A built-in filter: nullopt means "no value" (the token is echoed, spec §9.1).
using builtin_filter = std::optional<std::string> (*)(filter_args& args);

/// One entry of a filter family's table.
struct builtin_entry {
  std::string_view lower_name;
  builtin_filter fn;
};

// One table per family (each defined in the file named beside it).
std::span<const builtin_entry> case_filters();  // builtin_filters.cpp: ToUpper, ToLower, Trim, null
std::span<const builtin_entry>
escape_filters();  // escape_filters.cpp: base64, HTML/XML/JSON/YAML/properties, URI
std::span<const builtin_entry> hash_filters();  // hash_filters.cpp: Md5, Sha1, Sha256, Sha384, Sha512
std::span<const builtin_entry> text_filters();  // text_filters.cpp: Match, Replace, StartsWith... Prepend
std::span<const builtin_entry>
date_filters();  // date_filters.cpp: NowDate, NowDateUtc, AddHours, AddDays, Format
std::span<const builtin_entry> version_filters();   // version_filters.cpp: Version*
std::span<const builtin_entry> markdown_filters();  // markdown_filters.cpp: Markdown, MarkdownToHtml
std::span<const builtin_entry> uri_filters();       // uri_filters.cpp: UriPart

// .NET byte encodings and base64, shared by the escape and hash families (defined in escape_filters.cpp).

/// The UTF-8 bytes .NET's Encoding.UTF8.GetBytes would give for `s`: `s` itself when it is valid UTF-8,
/// otherwise `s` with every invalid byte replaced by U+FFFD.
std::string dotnet_utf8_bytes(std::string_view s);
/// The UTF-16LE bytes (no byte-order mark) of `s`, as .NET's Encoding.Unicode.GetBytes.
std::string dotnet_utf16le_bytes(std::string_view s);
/// .NET Convert.FromBase64String: decodes `text` into `out`, or returns false and explains why in `why`.
bool decode_base64(std::string_view text, std::string& out, std::string& why);

/// The built-in filter registered under the lower-case `name`, or null.
builtin_filter find_builtin_filter(std::string_view lower_name);

}  // namespace cuttle::engine::detail

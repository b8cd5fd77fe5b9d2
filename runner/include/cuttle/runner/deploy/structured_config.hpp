// Structured configuration variables (calamari-spec §5.5): replacing the values of existing nodes of a JSON,
// YAML, XML or Java properties document whose path matches a variable's name. Pure text in, text out
// (UTF-8, no BOM: the caller decodes the file and encodes the result back). No I/O.
//
// Example:
//   std::vector<cuttle::runner::deploy::structured_variable> vars{{"Logging:LogLevel:Default", "Warning"}};
//   auto out = cuttle::runner::deploy::replace_json(R"({"Logging":{"LogLevel":{"Default":"Debug"}}})", vars);
//   // out.parsed, out.replaced == 1, out.text holds the document with "Warning"
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cuttle::runner::deploy {

/// A variable offered to a replacer: its name and its evaluated value (nullopt is a null value).
struct structured_variable {
  std::string name;
  std::optional<std::string> value;
};

/// The outcome of replacing in one document.
struct replace_outcome {
  /// False when the text does not parse as the format; `error` then says where and what was expected,
  /// and `text` is empty.
  bool parsed = false;
  /// "line L, column C: <what was expected>" (1-based) when !parsed.
  std::string error;
  /// The new document (equal to the input when nothing matched).
  std::string text;
  /// How many nodes received a value.
  std::size_t replaced = 0;
  /// Problems that left a node unchanged ("Unable to set value for X: ..."). They name variables, never
  /// their values.
  std::vector<std::string> warnings;
};

/// JSON: paths are property names and array indexes joined by ':' ("Servers:0:Host"), compared
/// case-insensitively; names starting with "Octopus" are ignored unless they start with "Octopus:". The
/// existing token's type is kept (number, boolean, string; null takes a string); an object or array is
/// replaced by the value parsed as JSON. The document's formatting is kept: only replaced values change.
/// Comments and trailing commas are read; nesting deeper than 1000 levels is a parse error. See
/// docs/structured-config.md.
replace_outcome replace_json(std::string_view text, std::span<const structured_variable> vars);

/// YAML: paths as for JSON over mapping keys and sequence indexes, in every document of the stream.
/// Comments, styles, anchors, tags and indentation are kept; a scalar keeps its quoting style and tag (a
/// plain scalar only while the value is safe unquoted and of the same kind); a null value becomes `null`; a
/// mapping or sequence is replaced by the value parsed as a YAML fragment. The result is checked to parse.
/// Never prints (libfyaml's diagnostics are collected). See docs/structured-config.md.
replace_outcome replace_yaml(std::string_view text, std::span<const structured_variable> vars);

/// XML: a variable whose name contains '/' or ':' is an XPath 1.0 expression (namespace prefixes inferred
/// from the document; invalid expressions are skipped); selected attributes, text, CDATA, comments,
/// processing instructions and elements get the value (an element with child elements takes the value as
/// inner XML). Untouched parts come out byte for byte (docs/xml-config.md).
replace_outcome replace_xml(std::string_view text, std::span<const structured_variable> vars);

/// Java properties: existing keys (escapes decoded, compared case-insensitively) get the value, escaped per
/// the format (names starting with "Octopus" are ignored); comments, layout and line continuations elsewhere
/// are kept. The only parse error is a malformed \uXXXX escape, as in java.util.Properties. See
/// docs/structured-config.md.
replace_outcome replace_properties(std::string_view text, std::span<const structured_variable> vars);

}  // namespace cuttle::runner::deploy

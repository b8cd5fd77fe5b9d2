// XML configuration files (calamari-spec §5.1 steps 8 and 9): XDT configuration transforms and the
// appSettings / connectionStrings / applicationSettings replacement. Pure text in, text out (UTF-8, no BOM);
// whitespace, comments and the declaration of the target document are kept. No I/O.
//
// Example:
//   auto t = cuttle::runner::deploy::apply_xdt(web_config_text, web_release_config_text);
//   if (!t.ok) std::cerr << t.error;        // "transform, line 3, column 7: ..."
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/runner/deploy/structured_config.hpp"

namespace cuttle::runner::deploy {

/// The outcome of an XDT transform.
struct xdt_outcome {
  /// False when either document does not parse, or the transform uses an unsupported or malformed
  /// xdt:Transform / xdt:Locator; `error` then says which document ("target" or "transform"), where and why.
  bool ok = false;
  std::string error;
  /// The transformed target document.
  std::string text;
  /// How many xdt:Transform attributes were applied to at least one node.
  std::size_t applied = 0;
  /// Transforms that matched nothing, and similar non-fatal notes.
  std::vector<std::string> warnings;
};

/// Applies the XDT document `transform` to `target`. Supported (docs/xml-config.md): Transform = Replace,
/// Insert, InsertBefore(xpath), InsertAfter(xpath), InsertIfMissing, Remove, RemoveAll,
/// RemoveAttributes(names), SetAttributes(names); Locator = Match(names), Condition(expr), XPath(expr). Names
/// are matched as written (prefix included). Untouched parts of the target come out byte for byte; when no
/// transform applies, `text` is `target` itself.
xdt_outcome apply_xdt(std::string_view target, std::string_view transform);

/// Configuration variables in a .config file: `appSettings/add[@key]` gets `value`,
/// `connectionStrings/add[@name]` gets `connectionString`, `applicationSettings//setting[@name]/value` gets
/// its text; element names matched by local name at any depth, keys compared case-insensitively (the last of
/// several variables differing only in case wins), a missing value attribute or <value> element is added.
/// Only existing entries change; `replaced` counts them. Nothing reported contains a value.
replace_outcome replace_config_settings(std::string_view text, std::span<const structured_variable> vars);

}  // namespace cuttle::runner::deploy

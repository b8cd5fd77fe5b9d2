// The evaluator: renders a parsed template against a binding tree (spec §4-§10).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "binding.hpp"
#include "cuttle/engine/diagnostic.hpp"
#include "cuttle/engine/options.hpp"
#include "parser.hpp"

namespace cuttle::engine::detail {

/// A built-in filter: nullopt means "no value" (the token is echoed).
using builtin_filter = std::optional<std::string> (*)(const std::optional<std::string>& input,
                                                      const std::vector<std::string>& options);

/// The built-in filter registered under the lower-case `name`, or null.
builtin_filter find_builtin_filter(std::string_view lower_name);
/// True when `lower_name` is an Octostache filter name (implemented or not).
bool is_octostache_filter_name(std::string_view lower_name);

/// What one render produced.
struct evaluation {
  std::optional<std::string> output;  ///< nullopt: the `null` filter, or a fatal error
  std::vector<diagnostic> diagnostics;
  std::vector<std::string>
      missing;  ///< distinct normalised texts of unresolved tokens, first occurrence first
  bool failed = false;
};

/// Renders `tokens` (parsed from `source`, named `source_name` in diagnostics).
evaluation evaluate_tokens(const token_list& tokens, std::string_view source, std::string_view source_name,
                           const binding_tree& tree, const render_options& options);

}  // namespace cuttle::engine::detail

// The evaluator: renders a parsed template against a binding tree (spec §4-§10).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "binding.hpp"
#include "cuttle/engine/diagnostic.hpp"
#include "cuttle/engine/options.hpp"
#include "filters/filter_api.hpp"
#include "parser.hpp"

namespace cuttle::engine::detail {

/// What one render produced.
struct evaluation {
  std::optional<std::string> output;  ///< nullopt: the `null` filter, or a fatal error
  std::vector<diagnostic> diagnostics;
  std::vector<std::string>
      missing;  ///< distinct normalised texts of unresolved tokens, first occurrence first
  bool failed = false;
};

/// Renders a template token by token as the parser produces them (one-shot rendering without holding
/// the AST). `source` and `tree` must outlive it; finish() once, after the last feed().
class streaming_render final : public token_sink {
 public:
  streaming_render(std::string_view source, std::string_view source_name, const binding_tree& tree,
                   const render_options& options);
  ~streaming_render() override;
  streaming_render(const streaming_render&) = delete;
  streaming_render& operator=(const streaming_render&) = delete;
  // Each renders one top-level token (nothing once a fatal error has stopped the render).
  void text(std::string_view text, std::uint32_t offset) override;
  void reference(std::string_view path, std::uint32_t offset) override;
  void construct(token&& t) override;
  /// The output, diagnostics and missing tokens of everything fed.
  evaluation finish();

 private:
  struct state;
  std::unique_ptr<state> state_;
};

/// Renders `tokens` (parsed from `source`, named `source_name` in diagnostics).
evaluation evaluate_tokens(const token_list& tokens, std::string_view source, std::string_view source_name,
                           const binding_tree& tree, const render_options& options);

}  // namespace cuttle::engine::detail

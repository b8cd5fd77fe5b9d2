// Template parser: turns template text into the AST of ast.hpp (Octostache's grammar, §14 of the spec).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ast.hpp"

namespace cuttle::engine::detail {

/// What parse_template produced.
struct parse_outcome {
  token_list tokens;
  bool failed = false;           ///< halting mode: a token did not parse; the template renders verbatim
  std::size_t error_offset = 0;  ///< where the unparseable token starts
  std::size_t furthest = 0;      ///< furthest position any alternative reached
  bool depth_exceeded = false;   ///< the nesting_depth limit was hit (fatal)
  /// Continue mode: the [begin, end) byte ranges kept as literal text because they did not parse.
  std::vector<std::pair<std::size_t, std::size_t>> recovered;
};

/// Parses `src`. Text tokens point into `src`, which must outlive the result.
parse_outcome parse_template(std::string_view src, bool halt_on_error, int max_depth);

/// Receives the top-level tokens of parse_template_streaming in order. The two commonest tokens come
/// without a token object: text pieces, and references (`#{A.B}`, see token_kind::reference).
class token_sink {
 public:
  virtual ~token_sink() = default;
  virtual void text(std::string_view text, std::uint32_t offset) = 0;
  virtual void reference(std::string_view path, std::uint32_t offset) = 0;
  virtual void construct(token&& t) = 0;
};

/// Parses `src` and hands each top-level token to `sink` as soon as it is parsed, instead of collecting
/// them (`tokens` of the result stays empty). Used by one-shot rendering, which then never holds the whole
/// AST. The outcome flags are the same as parse_template's.
parse_outcome parse_template_streaming(std::string_view src, bool halt_on_error, int max_depth,
                                       token_sink& sink);

/// parse_template without the hand-written fast paths for `#{A.B}` and `#{A.B | Filter options}`: every
/// token goes through the grammar. For tests that check the fast paths against it.
parse_outcome parse_template_grammar_only(std::string_view src, bool halt_on_error, int max_depth);

/// The symbol of a `reference` token (what the grammar would build for `#{path}`): identifier steps split
/// at '.', with the offsets the grammar gives them (`token_offset` is the offset of the token's "#{").
symbol reference_symbol(std::string_view path, std::uint32_t token_offset);

/// Parses a variable name as a path (a prefix parse: trailing junk is ignored, as Octostache does).
/// nullopt when the name does not start with a symbol.
std::optional<symbol> parse_name_path(std::string_view name);

}  // namespace cuttle::engine::detail

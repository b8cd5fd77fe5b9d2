// The template AST: value-semantic nodes with the byte offset of each construct in its source.
// Private to the engine; the public header only sees detail::template_impl through a pointer.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filters/filter_api.hpp"

namespace cuttle::engine::detail {

struct symbol;
struct token;
using token_list = std::vector<token>;

enum class step_kind : std::uint8_t { identifier, index, substitution_index };

/// One step of a symbol path: `.Name`, `[Index]` or `[#{Inner}]`.
struct step {
  step_kind kind = step_kind::identifier;
  std::string text;               ///< trimmed identifier, or the index string
  std::string key;                ///< case-insensitive key of `text`
  std::uint32_t offset = 0;       ///< byte offset in the source (part of recursion identity)
  std::shared_ptr<symbol> inner;  ///< substitution_index only
};

/// Symbol := Identifier ("." Identifier | Indexer)*
struct symbol {
  std::vector<step> steps;
  std::uint32_t offset = 0;
};

/// A filter option: literal text, or a nested construct evaluated to text.
struct option {
  std::string literal;
  std::shared_ptr<token> nested;  ///< null for a literal
};

/// `| Name options...`
struct filter_call {
  std::string name;  ///< as written
  std::vector<option> options;
  builtin_filter builtin = nullptr;  ///< the built-in of that name (resolved when parsed), or null
};

/// Expression := FilterChain | Symbol; `subject` is absent for `#{ | F}`.
struct expression {
  std::optional<symbol> subject;
  std::vector<filter_call> filters;
};

/// One side of a comparison: an expression or a quoted literal.
struct operand {
  bool is_literal = false;
  std::string literal;
  expression expr;
};

enum class compare_op : std::uint8_t { none, equal, not_equal };

struct conditional {
  operand left;
  compare_op op = compare_op::none;
  operand right;
  token_list truthy;
  std::optional<token_list> falsy;
};

struct each_block {
  std::string variable;
  symbol collection;
  token_list body;
};

/// Calc expression tree: a number, a symbol, or a binary operation.
struct calc_node {
  enum class kind : std::uint8_t { number, variable, binary } type = kind::number;
  double number = 0;
  symbol var;
  char op = 0;
  std::unique_ptr<calc_node> lhs, rhs;
};

/// `reference` is the commonest token, `#{A.B}` (identifier steps only, no filters, no whitespace): it
/// keeps just the name path as a view into the source, and the evaluator builds its symbol when needed
/// (see reference_symbol), so parsing it allocates nothing.
enum class token_kind : std::uint8_t { text, substitution, conditional, each, calc, reference };

struct token {
  token_kind kind = token_kind::text;
  std::uint32_t offset = 0;  ///< byte offset of the token in its source
  std::string_view text;  ///< text: unescaped text; reference: the name path; always a view into the source
  std::shared_ptr<const expression> expr;  ///< substitution
  std::shared_ptr<conditional> cond;
  std::shared_ptr<each_block> each;
  std::shared_ptr<calc_node> calc;
};

}  // namespace cuttle::engine::detail

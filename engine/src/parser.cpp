// Template parser: Octostache's grammar as PEGTL rules, building the AST on a rollback stack.
// Tested by tests/engine/parser_test.cpp
//
// Design. Octostache (Sprache) tries alternatives in order with full backtracking, so a construct that
// fails half-way must leave no trace. Every rule that builds AST has a static `build` function; the
// control class records a mark (stack height and start position) when such a rule starts, calls
// `build` with the pieces pushed since the mark when it succeeds, and truncates the stack back to the
// mark when it fails. Terminal rules written by hand (identifiers, indexes, text runs) push their piece
// directly. The four constructs that can contain whole templates (conditional, each, calc,
// substitution) are memoised per position, success and failure alike: without that, unterminated or
// deeply nested constructs make the backtracking exponential (each #{if without #{/if} re-parses the
// rest of the template once per enclosing attempt). The same memo bounds the nesting depth, the only
// recursion in the parser.

#include "parser.hpp"

#include <algorithm>
#include <cstring>
#include <tao/pegtl.hpp>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "unicode.hpp"

namespace cuttle::engine::detail {
namespace {

namespace pegtl = tao::pegtl;

// ---------------------------------------------------------------------------------------------------
// Parse state: the piece stack and its marks.

struct cond_piece {
  operand left;
  compare_op op = compare_op::none;
  operand right;
};
struct body_piece {
  token_list tokens;
};
struct elseif_piece {
  cond_piece cond;
  token_list body;
};
struct else_piece {
  token_list body;
};
struct name_piece {
  std::string text;
};
struct op_piece {
  char op;
};
struct calc_piece {
  std::shared_ptr<calc_node> node;
};

using piece =
    std::variant<token, step, symbol, option, filter_call, expression, operand, compare_op, cond_piece,
                 body_piece, elseif_piece, else_piece, name_piece, op_piece, calc_piece>;

struct mark {
  std::size_t height;
  const char* begin;
};

struct memo_entry {
  bool ok;
  const char* end;
  token result;
};

struct parse_state {
  const char* base = nullptr;
  std::vector<piece> stack;
  std::vector<mark> marks;
  const char* furthest = nullptr;
  int token_depth = 0;
  int depth = 0;
  int max_depth = 64;
  bool depth_exceeded = false;
  bool fast_paths = true;  ///< false: every construct goes through the grammar (tests compare the two)
  std::unordered_map<std::uint64_t, memo_entry> memo;

  std::uint32_t offset(const char* p) const { return static_cast<std::uint32_t>(p - base); }

  template <typename T>
  T take(std::size_t index) {
    return std::move(std::get<T>(stack[index]));
  }
  void truncate(std::size_t height) {
    stack.erase(stack.begin() + static_cast<std::ptrdiff_t>(height), stack.end());
  }
};

template <typename Rule>
concept builds = requires(parse_state& s, const mark& m, const char* e) {
  Rule::build(s, m, e);
};

// Sequences can fail after a prefix pushed pieces (an alternative of a sor<> that fails half-way), so
// they also roll back. Every other rule either pushes nothing or fails without consuming.
template <typename Rule>
inline constexpr bool is_sequence = requires(const Rule* r) {
  []<typename... Rules>(const tao::pegtl::internal::seq<Rules...>*) {}(r);
};

template <typename Rule>
inline constexpr bool marked = builds<Rule> || is_sequence<Rule>;

// Collects the pieces of type T pushed since `m` (in order).
template <typename T>
std::vector<T> collect(parse_state& st, const mark& m) {
  std::vector<T> out;
  out.reserve(st.stack.size() - m.height);
  for (std::size_t i = m.height; i < st.stack.size(); ++i) out.push_back(st.take<T>(i));
  st.truncate(m.height);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Hand-written terminals. Each follows PEGTL's custom-rule protocol.

template <typename Derived>
struct custom_rule {
  using rule_t = Derived;
  using subs_t = pegtl::empty_list;
};

constexpr bool is_bare_ascii(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == ':' || c == '/' || c == '~' || c == '(' || c == ')' || c == '@';
}

// Length of the identifier character at p (0 when it is not one); `ws` is set for whitespace.
inline std::size_t ident_char_length(const char* p, const char* end, bool allow_ws, bool& ws) {
  const auto c = static_cast<unsigned char>(*p);
  ws = false;
  if (c < 0x80) {
    if (is_bare_ascii(c)) return 1;
    if (allow_ws && (c == ' ' || (c >= 0x09 && c <= 0x0D))) {
      ws = true;
      return 1;
    }
    return 0;
  }
  char32_t cp = 0;
  const int n = decode_utf8(p, end, cp);
  if (cp == 0xFFFD && n == 1) return 0;
  if (is_letter_or_digit(cp)) return static_cast<std::size_t>(n);
  if (allow_ws && is_dotnet_whitespace(cp)) {
    ws = true;
    return static_cast<std::size_t>(n);
  }
  return 0;
}

// The keyword rule: whitespace followed by `in`, `==` or `!=` and then whitespace ends an identifier.
inline bool keyword_follows(const char* p, const char* end) {
  if (end - p < 3) return false;
  const bool kw =
      (p[0] == 'i' && p[1] == 'n') || (p[0] == '=' && p[1] == '=') || (p[0] == '!' && p[1] == '=');
  return kw && whitespace_length(p + 2, end) != 0;
}

// Scans an identifier (with whitespace) from p; returns its end (p when none).
inline const char* scan_identifier(const char* p, const char* end) {
  const char* q = p;
  while (q < end) {
    bool ws = false;
    const auto n = ident_char_length(q, end, true, ws);
    if (n == 0) break;
    if (ws) {
      const char* next = q + n;
      if (next < end && (*next == '|' || *next == '}')) break;
      if (keyword_follows(next, end)) break;
    }
    q += n;
  }
  return q;
}

inline const char* scan_bare(const char* p, const char* end) {
  const char* q = p;
  while (q < end) {
    bool ws = false;
    const auto n = ident_char_length(q, end, false, ws);
    if (n == 0) break;
    q += n;
  }
  return q;
}

// identifier -> ident-char+ (trimmed; see the exclusions in scan_identifier)
struct identifier : custom_rule<identifier> {
  template <pegtl::apply_mode, pegtl::rewind_mode, template <typename...> class, template <typename...> class,
            typename ParseInput>
  static bool match(ParseInput& in, parse_state& st) {
    const char* p = in.current();
    const char* q = scan_identifier(p, in.end());
    if (q == p) return false;
    const std::string_view raw(p, static_cast<std::size_t>(q - p));
    const std::string_view name = trim(raw);
    step s;
    s.kind = step_kind::identifier;
    s.text.assign(name);
    append_case_key(s.key, name);
    s.offset = st.offset(name.empty() ? p : name.data());
    st.stack.emplace_back(std::move(s));
    in.bump(static_cast<std::size_t>(q - p));
    return true;
  }
};

// filter_name -> bare-char+
struct filter_name : custom_rule<filter_name> {
  template <pegtl::apply_mode, pegtl::rewind_mode, template <typename...> class, template <typename...> class,
            typename ParseInput>
  static bool match(ParseInput& in, parse_state& st) {
    const char* p = in.current();
    const char* q = scan_bare(p, in.end());
    if (q == p) return false;
    st.stack.emplace_back(name_piece{std::string(p, q)});
    in.bump(static_cast<std::size_t>(q - p));
    return true;
  }
};

// bare_word -> bare-char+ (a literal filter option)
struct bare_word : custom_rule<bare_word> {
  template <pegtl::apply_mode, pegtl::rewind_mode, template <typename...> class, template <typename...> class,
            typename ParseInput>
  static bool match(ParseInput& in, parse_state& st) {
    const char* p = in.current();
    const char* q = scan_bare(p, in.end());
    if (q == p) return false;
    st.stack.emplace_back(option{std::string(p, q), nullptr});
    in.bump(static_cast<std::size_t>(q - p));
    return true;
  }
};

// ws -> one .NET whitespace character
struct ws : custom_rule<ws> {
  template <pegtl::apply_mode, pegtl::rewind_mode, template <typename...> class, template <typename...> class,
            typename ParseInput>
  static bool match(ParseInput& in, parse_state&) {
    if (in.empty()) return false;
    const auto n = whitespace_length(in.current(), in.end());
    if (n == 0) return false;
    in.bump(n);
    return true;
  }
};

// string_index -> "[" ws* { string_index / (char - "[" - "]")+ } ws* "]"
// Nested pairs are re-emitted as "[" inner "]"; leading whitespace is dropped, trailing kept.
struct string_index : custom_rule<string_index> {
  static constexpr int max_nesting = 64;

  static bool scan(const char*& p, const char* end, std::string& out, int level) {
    if (p >= end || *p != '[' || level > max_nesting) return false;
    const char* q = p + 1;
    while (q < end) {
      const auto n = whitespace_length(q, end);
      if (n == 0) break;
      q += n;
    }
    while (q < end && *q != ']') {
      if (*q == '[') {
        std::string inner;
        if (!scan(q, end, inner, level + 1)) return false;
        out.push_back('[');
        out += inner;
        out.push_back(']');
      } else {
        out.push_back(*q++);
      }
    }
    if (q >= end) return false;
    p = q + 1;
    return true;
  }

  template <pegtl::apply_mode, pegtl::rewind_mode, template <typename...> class, template <typename...> class,
            typename ParseInput>
  static bool match(ParseInput& in, parse_state& st) {
    const char* p = in.current();
    step s;
    s.kind = step_kind::index;
    if (!scan(p, in.end(), s.text, 0)) {
      return false;
    }
    append_case_key(s.key, s.text);
    s.offset = st.offset(in.current());
    st.stack.emplace_back(std::move(s));
    in.bump(static_cast<std::size_t>(p - in.current()));
    return true;
  }
};

// text -> text-piece+, where at a '#':
//   "#" EOF -> "#";  "##" &"#{" (not at the very end) -> "#";  "##{" -> "#{";  "#" char -> both;  "#{" ->
//   stop.
// scan_text calls piece(from, to) for each piece of unescaped text (never two contiguous ones: a piece
// ends where an escape drops a '#') and returns where the text stops: at "#{" or at the end.
template <typename Piece>
const char* scan_text(const char* begin, const char* end, Piece&& emit_piece) {
  const char* p = begin;
  const char* run = p;  // start of the pending piece
  while (p < end) {
    const void* hash = std::memchr(p, '#', static_cast<std::size_t>(end - p));
    if (hash == nullptr) {
      p = end;
      break;
    }
    p = static_cast<const char*>(hash);
    const std::size_t left = static_cast<std::size_t>(end - p);
    if (left == 1) {  // lone trailing '#'
      ++p;
      break;
    }
    const char next = p[1];
    if (next == '#' && left >= 5 && p[2] == '#' && p[3] == '{') {  // "##" before "#{" (quirk: not at the end)
      emit_piece(run, p + 1);
      p += 2;
      run = p;
      continue;
    }
    if (next == '#' && left >= 3 && p[2] == '{') {  // "##{" -> "#{"
      if (p != run) emit_piece(run, p);
      run = p + 1;
      p += 3;
      continue;
    }
    if (next != '{') {
      p += 2;
      continue;
    }
    break;  // "#{": a construct must start here
  }
  if (p != run) emit_piece(run, p);
  return p;
}

// Every emitted piece is a substring of the source, so text tokens are views.
struct text : custom_rule<text> {
  template <pegtl::apply_mode, pegtl::rewind_mode, template <typename...> class, template <typename...> class,
            typename ParseInput>
  static bool match(ParseInput& in, parse_state& st) {
    const char* const begin = in.current();
    const char* const p = scan_text(begin, in.end(), [&st](const char* from, const char* to) {
      token tk;
      tk.kind = token_kind::text;
      tk.offset = st.offset(from);
      tk.text = std::string_view(from, static_cast<std::size_t>(to - from));
      st.stack.emplace_back(std::move(tk));
    });
    if (p == begin) return false;
    in.bump(static_cast<std::size_t>(p - begin));
    return true;
  }
};

// ---------------------------------------------------------------------------------------------------
// The grammar. Productions in Octostache's notation above each rule.

// clang-format off
using pegtl::one;
using pegtl::opt;
using pegtl::plus;
using pegtl::seq;
using pegtl::sor;
using pegtl::star;
using pegtl::not_at;
using pegtl::istring;
using pegtl::string;

struct token_rule;
struct symbol_rule;
struct sum;

// open -> "#{" - "#{/"
struct open : seq<one<'#'>, one<'{'>, not_at<one<'/'>>> {};
struct close : one<'}'> {};
struct wss : star<ws> {};

// substitution_index -> "[" ws* "#{" ws* symbol ws* "}" ws* "]"
struct substitution_index : seq<one<'['>, wss, open, wss, symbol_rule, wss, close, wss, one<']'>> {
  static void build(parse_state& st, const mark& m, const char*) {
    step s;
    s.kind = step_kind::substitution_index;
    s.inner = std::make_shared<symbol>(st.take<symbol>(m.height));
    s.offset = st.offset(m.begin);
    st.truncate(m.height);
    st.stack.emplace_back(std::move(s));
  }
};
// indexer -> substitution_index / string_index
struct indexer : sor<substitution_index, string_index> {};
// symbol -> identifier ("." identifier / indexer)*
struct symbol_rule : seq<identifier, star<sor<seq<one<'.'>, identifier>, indexer>>> {
  static void build(parse_state& st, const mark& m, const char*) {
    symbol s;
    s.offset = st.offset(m.begin);
    s.steps = collect<step>(st, m);
    st.stack.emplace_back(std::move(s));
  }
};

// quoted_body -> (char - '"' - '#')*        escaped_body -> shortest char* before \"
struct quoted_body : star<pegtl::not_one<'"', '#'>> {
  static void build(parse_state& st, const mark& m, const char* e) { st.stack.emplace_back(name_piece{std::string(m.begin, e)}); }
};
struct escaped_quote : string<'\\', '"'> {};
struct escaped_body : star<not_at<escaped_quote>, pegtl::any> {
  static void build(parse_state& st, const mark& m, const char* e) { st.stack.emplace_back(name_piece{std::string(m.begin, e)}); }
};
// quoted -> '"' quoted_body '"' / '\"' escaped_body '\"'
struct quoted : sor<seq<one<'"'>, quoted_body, one<'"'>>, seq<escaped_quote, escaped_body, escaped_quote>> {};

struct nested_construct;
// option -> nested_construct / ws* bare_word ws* / ws* quoted ws*
struct option_nested : seq<nested_construct> {
  static void build(parse_state& st, const mark& m, const char*) {
    auto t = std::make_shared<token>(st.take<token>(m.height));
    st.truncate(m.height);
    st.stack.emplace_back(option{std::string(), std::move(t)});
  }
};
struct option_quoted : seq<wss, quoted, wss> {
  static void build(parse_state& st, const mark& m, const char*) {
    auto text = st.take<name_piece>(m.height).text;
    st.truncate(m.height);
    st.stack.emplace_back(option{std::move(text), nullptr});
  }
};
struct option_rule : sor<option_nested, seq<wss, bare_word, wss>, option_quoted> {};
// filter -> "|" ws* filter_name ws* option*
struct filter : seq<one<'|'>, wss, filter_name, wss, star<option_rule>> {
  static void build(parse_state& st, const mark& m, const char*) {
    filter_call f;
    f.name = st.take<name_piece>(m.height).text;
    f.builtin = find_builtin_filter(to_lower(f.name));
    for (std::size_t i = m.height + 1; i < st.stack.size(); ++i) f.options.push_back(st.take<option>(i));
    st.truncate(m.height);
    st.stack.emplace_back(std::move(f));
  }
};
// expression -> symbol ws* filter* / filter+      (the filter chain and plain symbol forms, merged)
struct expression_rule : sor<seq<symbol_rule, wss, star<filter>>, plus<filter>> {
  static void build(parse_state& st, const mark& m, const char*) {
    expression e;
    std::size_t i = m.height;
    if (i < st.stack.size() && std::holds_alternative<symbol>(st.stack[i])) e.subject = st.take<symbol>(i++);
    for (; i < st.stack.size(); ++i) e.filters.push_back(st.take<filter_call>(i));
    st.truncate(m.height);
    st.stack.emplace_back(std::move(e));
  }
};

// substitution -> open ws* expression ws* "}"
struct substitution_form : seq<open, wss, expression_rule, wss, close> {
  static void build(parse_state& st, const mark& m, const char*) {
    token t;
    t.kind = token_kind::substitution;
    t.offset = st.offset(m.begin);
    t.expr = std::make_shared<const expression>(st.take<expression>(m.height));
    st.truncate(m.height);
    st.stack.emplace_back(std::move(t));
  }
};

// Conditions.
struct operand_expr : expression_rule {
  static void build(parse_state& st, const mark& m, const char* e) {
    expression_rule::build(st, m, e);
    operand o;
    o.expr = st.take<expression>(m.height);
    st.truncate(m.height);
    st.stack.emplace_back(std::move(o));
  }
};
struct operand_literal : quoted {
  static void build(parse_state& st, const mark& m, const char*) {
    operand o;
    o.is_literal = true;
    o.literal = st.take<name_piece>(m.height).text;
    st.truncate(m.height);
    st.stack.emplace_back(std::move(o));
  }
};
struct compare : sor<string<'=', '='>, string<'!', '='>> {
  static void build(parse_state& st, const mark& m, const char*) {
    st.stack.emplace_back(m.begin[0] == '=' ? compare_op::equal : compare_op::not_equal);
  }
};
// condition -> expression ws* op ws* expression / quoted ws* op ws* expression
//            / expression ws* op ws* quoted / expression      (each surrounded by ws*)
struct condition : sor<seq<wss, operand_expr, wss, compare, wss, operand_expr, wss>,
                       seq<wss, operand_literal, wss, compare, wss, operand_expr, wss>,
                       seq<wss, operand_expr, wss, compare, wss, operand_literal, wss>,
                       seq<wss, operand_expr, wss>> {
  static void build(parse_state& st, const mark& m, const char*) {
    cond_piece c;
    c.left = st.take<operand>(m.height);
    if (st.stack.size() - m.height == 3) {
      c.op = st.take<compare_op>(m.height + 1);
      c.right = st.take<operand>(m.height + 2);
    }
    st.truncate(m.height);
    st.stack.emplace_back(std::move(c));
  }
};

struct else_tag : string<'#', '{', 'e', 'l', 's', 'e', '}'> {};
struct elseif_open : seq<string<'#', '{', 'e', 'l', 's', 'e', 'i', 'f'>, ws> {};
struct if_close : string<'#', '{', '/', 'i', 'f', '}'> {};
struct unless_close : string<'#', '{', '/', 'u', 'n', 'l', 'e', 's', 's', '}'> {};
struct each_close : string<'#', '{', '/', 'e', 'a', 'c', 'h', '}'> {};

inline void build_body(parse_state& st, const mark& m) {
  body_piece b;
  b.tokens = collect<token>(st, m);
  st.stack.emplace_back(std::move(b));
}
// if_body -> { token - "#{else}" - "#{elseif" ws }     unless_body -> { token - "#{else}" }     body -> token*
struct if_body : star<not_at<sor<else_tag, elseif_open>>, token_rule> {
  static void build(parse_state& st, const mark& m, const char*) { build_body(st, m); }
};
struct unless_body : star<not_at<else_tag>, token_rule> {
  static void build(parse_state& st, const mark& m, const char*) { build_body(st, m); }
};
struct template_body : star<token_rule> {
  static void build(parse_state& st, const mark& m, const char*) { build_body(st, m); }
};
// elseif -> "#{elseif" ws condition ws* "}" if_body
struct elseif_clause : seq<elseif_open, condition, wss, close, if_body> {
  static void build(parse_state& st, const mark& m, const char*) {
    elseif_piece e;
    e.cond = st.take<cond_piece>(m.height);
    e.body = st.take<body_piece>(m.height + 1).tokens;
    st.truncate(m.height);
    st.stack.emplace_back(std::move(e));
  }
};
// else -> "#{else}" body
struct else_clause : seq<else_tag, template_body> {
  static void build(parse_state& st, const mark& m, const char*) {
    else_piece e{st.take<body_piece>(m.height).tokens};
    st.truncate(m.height);
    st.stack.emplace_back(std::move(e));
  }
};

inline std::shared_ptr<conditional> make_conditional(cond_piece&& c, token_list&& truthy,
                                                     std::optional<token_list>&& falsy) {
  auto out = std::make_shared<conditional>();
  out->left = std::move(c.left);
  out->op = c.op;
  out->right = std::move(c.right);
  out->truthy = std::move(truthy);
  out->falsy = std::move(falsy);
  return out;
}

// if_form -> ci("if") ws+ condition ws* "}" if_body elseif* ["#{else}" body] "#{/if}"
// An elseif chain becomes nested conditionals in the else branch.
struct if_form : seq<istring<'i', 'f'>, plus<ws>, condition, wss, close, if_body, star<elseif_clause>, opt<else_clause>, if_close> {
  static void build(parse_state& st, const mark& m, const char*) {
    auto cond = st.take<cond_piece>(m.height);
    auto body = st.take<body_piece>(m.height + 1).tokens;
    std::vector<elseif_piece> chain;
    std::optional<token_list> final_else;
    for (std::size_t i = m.height + 2; i < st.stack.size(); ++i) {
      if (auto* e = std::get_if<elseif_piece>(&st.stack[i])) {
        chain.push_back(std::move(*e));
      } else {
        final_else = std::move(std::get<else_piece>(st.stack[i]).body);
      }
    }
    st.truncate(m.height);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      token nested;
      nested.kind = token_kind::conditional;
      nested.cond = make_conditional(std::move(it->cond), std::move(it->body), std::move(final_else));
      final_else = token_list{};
      final_else->push_back(std::move(nested));
    }
    token t;
    t.kind = token_kind::conditional;
    t.cond = make_conditional(std::move(cond), std::move(body), std::move(final_else));
    st.stack.emplace_back(std::move(t));
  }
};
// unless_form -> ci("unless") ws+ condition ws* "}" unless_body ["#{else}" body] "#{/unless}"
// Stored as an if with the branches swapped.
struct unless_form : seq<istring<'u', 'n', 'l', 'e', 's', 's'>, plus<ws>, condition, wss, close, unless_body, opt<else_clause>, unless_close> {
  static void build(parse_state& st, const mark& m, const char*) {
    auto cond = st.take<cond_piece>(m.height);
    auto body = st.take<body_piece>(m.height + 1).tokens;
    token_list else_body;
    if (st.stack.size() - m.height == 3) else_body = std::move(std::get<else_piece>(st.stack[m.height + 2]).body);
    st.truncate(m.height);
    token t;
    t.kind = token_kind::conditional;
    t.cond = make_conditional(std::move(cond), std::move(else_body), std::move(body));
    st.stack.emplace_back(std::move(t));
  }
};
// conditional -> open ws* (if_form / unless_form)
struct conditional_form : seq<open, wss, sor<if_form, unless_form>> {
  static void build(parse_state& st, const mark& m, const char*) { std::get<token>(st.stack.back()).offset = st.offset(m.begin); }
};

// each -> open ws* ci("each") ws+ identifier ws* ci("in") ws* symbol ws* "}" body "#{/each}"
struct each_form : seq<open, wss, istring<'e', 'a', 'c', 'h'>, plus<ws>, wss, identifier, wss, istring<'i', 'n'>, wss, symbol_rule, wss, close, template_body, each_close> {
  static void build(parse_state& st, const mark& m, const char*) {
    auto e = std::make_shared<each_block>();
    e->variable = st.take<step>(m.height).text;
    e->collection = st.take<symbol>(m.height + 1);
    e->body = st.take<body_piece>(m.height + 2).tokens;
    st.truncate(m.height);
    token t;
    t.kind = token_kind::each;
    t.offset = st.offset(m.begin);
    t.each = std::move(e);
    st.stack.emplace_back(std::move(t));
  }
};

// Calculations.
// number -> digit+ ["." digit+] / "." digit+
struct number : sor<seq<plus<pegtl::ascii::digit>, opt<one<'.'>, plus<pegtl::ascii::digit>>>, seq<one<'.'>, plus<pegtl::ascii::digit>>> {
  static void build(parse_state& st, const mark& m, const char* e) {
    auto n = std::make_shared<calc_node>();
    n->type = calc_node::kind::number;
    n->number = std::strtod(std::string(m.begin, e).c_str(), nullptr);
    st.stack.emplace_back(calc_piece{std::move(n)});
  }
};
inline void build_calc_var(parse_state& st, const mark& m) {
  auto n = std::make_shared<calc_node>();
  n->type = calc_node::kind::variable;
  n->var = st.take<symbol>(m.height);
  st.truncate(m.height);
  st.stack.emplace_back(calc_piece{std::move(n)});
}
// braced_var -> "{" ws* symbol ws* "}"        bare_var -> ws* symbol ws*
struct braced_var : seq<one<'{'>, wss, symbol_rule, wss, one<'}'>> {
  static void build(parse_state& st, const mark& m, const char*) { build_calc_var(st, m); }
};
struct bare_var : seq<wss, symbol_rule, wss> {
  static void build(parse_state& st, const mark& m, const char*) { build_calc_var(st, m); }
};
template <typename Rule>
struct deeper;
// paren -> "(" sum ")"
struct paren : seq<one<'('>, deeper<sum>, one<')'>> {};
// factor -> paren / number / braced_var / bare_var
struct factor : sor<paren, number, braced_var, bare_var> {};
struct mul_op : one<'*', '/'> {
  static void build(parse_state& st, const mark& m, const char*) { st.stack.emplace_back(op_piece{m.begin[0]}); }
};
struct add_op : one<'+', '-'> {
  static void build(parse_state& st, const mark& m, const char*) { st.stack.emplace_back(op_piece{m.begin[0]}); }
};
// Folds "operand (op operand)*" left-associatively.
inline void fold_calc(parse_state& st, const mark& m) {
  auto acc = st.take<calc_piece>(m.height).node;
  for (std::size_t i = m.height + 1; i + 1 < st.stack.size(); i += 2) {
    auto n = std::make_shared<calc_node>();
    n->type = calc_node::kind::binary;
    n->op = st.take<op_piece>(i).op;
    n->lhs = std::make_unique<calc_node>(std::move(*acc));
    n->rhs = std::make_unique<calc_node>(std::move(*st.take<calc_piece>(i + 1).node));
    acc = std::move(n);
  }
  st.truncate(m.height);
  st.stack.emplace_back(calc_piece{std::move(acc)});
}
// term -> factor (ws* ("*"|"/") ws* factor)*
struct term : seq<factor, star<wss, mul_op, wss, factor>> {
  static void build(parse_state& st, const mark& m, const char*) { fold_calc(st, m); }
};
// sum -> term (ws* ("+"|"-") ws* term)*
struct sum : seq<term, star<wss, add_op, wss, term>> {
  static void build(parse_state& st, const mark& m, const char*) { fold_calc(st, m); }
};
// calc -> open ws* ci("calc") ws+ sum ws* "}"
struct calc_form : seq<open, wss, istring<'c', 'a', 'l', 'c'>, plus<ws>, sum, wss, close> {
  static void build(parse_state& st, const mark& m, const char*) {
    token t;
    t.kind = token_kind::calc;
    t.offset = st.offset(m.begin);
    t.calc = st.take<calc_piece>(m.height).node;
    st.truncate(m.height);
    st.stack.emplace_back(std::move(t));
  }
};
// clang-format on

// deeper<Rule>: Rule one nesting level down; fails (and flags the limit) beyond max_depth.
template <typename Rule>
struct deeper : custom_rule<deeper<Rule>> {
  template <pegtl::apply_mode A, pegtl::rewind_mode M, template <typename...> class Action,
            template <typename...> class Control, typename ParseInput>
  static bool match(ParseInput& in, parse_state& st) {
    if (st.depth >= st.max_depth) {
      st.depth_exceeded = true;
      return false;
    }
    ++st.depth;
    const bool ok = Control<Rule>::template match<A, M, Action, Control>(in, st);
    --st.depth;
    return ok && !st.depth_exceeded;
  }
};

// The common `#{Name.Child}` form (ASCII name characters and single dots, directly closed) becomes a
// `reference` token without running the general rules. No keyword can start such a name because every
// keyword must be followed by whitespace; "#{/" never opens. reference_length gives the length of such a
// token at `p` (which starts with "#{"), or 0.
struct bare_ascii_table {
  bool is[256] = {};
  constexpr bare_ascii_table() {
    for (int c = 0; c < 256; ++c) is[c] = is_bare_ascii(static_cast<unsigned char>(c));
  }
};
constexpr bare_ascii_table bare_ascii;

inline std::size_t reference_length(const char* p, const char* end) {
  const char* q = p + 2;
  if (q >= end || *q == '/') return 0;
  const char* segment = q;
  while (q < end) {
    const auto c = static_cast<unsigned char>(*q);
    if (bare_ascii.is[c]) {
      ++q;
      continue;
    }
    if ((c != '.' && c != '}') || q == segment) return 0;  // an empty segment is left to the grammar
    if (c == '}') return static_cast<std::size_t>(q + 1 - p);
    segment = ++q;
  }
  return 0;
}

// The common filter-chain form `#{Name.Child | Filter bare "quoted" | Other}`: a name as in
// reference_length, then filters whose names and bare options are ASCII name characters and whose quoted
// options hold no '#' or '"', separated by ASCII whitespace. filter_chain_length builds the substitution
// token the grammar builds for it (same steps, keys, offsets and options) and returns its length, or 0 to
// leave the text to the grammar. The grammar tries #{if, #{unless, #{each and #{calc first, so a name whose
// first segment is one of those words is left to it; anything else outside the form (indexers, other
// whitespace, non-ASCII, '#', '\', nested constructs) is left to it too.
// tests/engine/parser_fast_path_test.cpp checks the two against each other.
constexpr bool is_ascii_ws(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

inline bool is_keyword_segment(std::string_view s) {
  return ascii_iequals(s, "if") || ascii_iequals(s, "unless") || ascii_iequals(s, "each") ||
         ascii_iequals(s, "calc");
}

inline std::size_t filter_chain_length(const char* p, const char* end, const char* base, token& out) {
  const auto bare = [&](const char* q) {
    while (q < end && bare_ascii.is[static_cast<unsigned char>(*q)]) ++q;
    // A non-ASCII letter or digit would continue the name in the grammar.
    return q < end && static_cast<unsigned char>(*q) >= 0x80 ? nullptr : q;
  };
  const auto skip_ws = [&](const char* q) {
    while (q < end && is_ascii_ws(*q)) ++q;
    return q;
  };
  const auto offset = [&](const char* q) { return static_cast<std::uint32_t>(q - base); };

  const char* q = p + 2;
  if (q >= end || *q == '/') return 0;
  symbol sym;
  sym.offset = offset(q);
  while (true) {
    const char* segment = q;
    q = bare(q);
    if (q == nullptr || q == segment || q >= end) return 0;
    const std::string_view name(segment, static_cast<std::size_t>(q - segment));
    if (sym.steps.empty() && is_keyword_segment(name)) return 0;
    step& s = sym.steps.emplace_back();
    s.text.assign(name);
    append_case_key(s.key, name);
    s.offset = offset(segment);
    if (*q != '.') break;
    ++q;
  }
  q = skip_ws(q);
  if (q >= end || *q != '|') return 0;

  expression e;
  e.subject = std::move(sym);
  while (q < end && *q == '|') {
    q = skip_ws(q + 1);
    const char* name_begin = q;
    q = bare(q);
    if (q == nullptr || q == name_begin) return 0;
    filter_call& f = e.filters.emplace_back();
    f.name.assign(name_begin, q);
    f.builtin = find_builtin_filter(to_lower(f.name));
    q = skip_ws(q);
    while (q < end && *q != '|' && *q != '}') {
      if (*q == '"') {
        const char* body = ++q;
        while (q < end && *q != '"' && *q != '#') ++q;
        if (q >= end || *q != '"') return 0;
        f.options.push_back(option{std::string(body, q), nullptr});
        ++q;
      } else {
        const char* word = q;
        q = bare(q);
        if (q == nullptr || q == word) return 0;
        f.options.push_back(option{std::string(word, q), nullptr});
      }
      q = skip_ws(q);
    }
  }
  if (q >= end || *q != '}') return 0;
  out = token{};
  out.kind = token_kind::substitution;
  out.offset = offset(p);
  out.expr = std::make_shared<const expression>(std::move(e));
  return static_cast<std::size_t>(q + 1 - p);
}

// memoised<Rule, Id>: runs a construct rule at most once per position; bounds nesting depth.

template <typename Rule, int Id>
struct memoised : custom_rule<memoised<Rule, Id>> {
  template <pegtl::apply_mode A, pegtl::rewind_mode M, template <typename...> class Action,
            template <typename...> class Control, typename ParseInput>
  static bool match(ParseInput& in, parse_state& st) {
    if (st.depth_exceeded) return false;
    const char* begin = in.current();
    // Every construct starts with "#{": skip the table for anything else.
    if (in.size(2) < 2 || begin[0] != '#' || begin[1] != '{') return false;
    // A top-level token is never re-parsed (the top-level loop does not backtrack), so only constructs
    // nested inside another one are memoised.
    if (st.depth == 0) {
      st.depth = 1;
      const bool ok = Control<Rule>::template match<A, pegtl::rewind_mode::required, Action, Control>(in, st);
      st.depth = 0;
      return ok && !st.depth_exceeded;
    }
    const std::uint64_t key = (static_cast<std::uint64_t>(st.offset(begin)) << 2) | Id;
    if (auto it = st.memo.find(key); it != st.memo.end()) {
      if (!it->second.ok) return false;
      st.stack.emplace_back(it->second.result);
      in.bump(static_cast<std::size_t>(it->second.end - begin));
      return true;
    }
    if (st.depth >= st.max_depth) {
      st.depth_exceeded = true;
      return false;
    }
    ++st.depth;
    const bool ok = Control<Rule>::template match<A, pegtl::rewind_mode::required, Action, Control>(in, st);
    --st.depth;
    if (st.depth_exceeded) return false;
    if (ok) {
      st.memo.emplace(key, memo_entry{true, in.current(), std::get<token>(st.stack.back())});
    } else {
      st.memo.emplace(key, memo_entry{false, begin, token{}});
    }
    return ok;
  }
};

// The fast paths inside constructs (bodies, options): where reference_length or filter_chain_length accept
// the text, conditional, calc and each fail and substitution gives that token, at any depth. A substitution
// at the depth limit is left to the grammar, which flags the limit.
struct fast_construct : custom_rule<fast_construct> {
  template <pegtl::apply_mode, pegtl::rewind_mode, template <typename...> class, template <typename...> class,
            typename ParseInput>
  static bool match(ParseInput& in, parse_state& st) {
    // At depth 0 the top-level loop has already tried both paths on this text.
    if (!st.fast_paths || st.depth == 0 || st.depth_exceeded || st.depth >= st.max_depth) return false;
    const char* p = in.current();
    if (in.size(2) < 2 || p[0] != '#' || p[1] != '{') return false;
    token t;
    std::size_t n = reference_length(p, in.end());
    if (n != 0) {
      // A substitution with its symbol built, not a reference token: a body renders many times (loops,
      // compiled templates), and only top-level references share the evaluator's cache.
      expression e;
      e.subject = reference_symbol(std::string_view(p + 2, n - 3), st.offset(p));
      t.kind = token_kind::substitution;
      t.offset = st.offset(p);
      t.expr = std::make_shared<const expression>(std::move(e));
    } else {
      n = filter_chain_length(p, in.end(), st.base, t);
      if (n == 0) return false;
    }
    st.stack.emplace_back(std::move(t));
    in.bump(n);
    return true;
  }
};

// nested_construct -> conditional / calc / each / substitution
struct nested_construct : sor<fast_construct, memoised<conditional_form, 0>, memoised<calc_form, 1>,
                              memoised<each_form, 2>, memoised<substitution_form, 3>> {};
// token -> conditional / calc / each / substitution / text
struct token_rule : sor<nested_construct, text> {};

// Control: marks, builders and the furthest-failure tracker.
template <typename Rule>
struct control : pegtl::normal<Rule> {
  template <typename ParseInput>
  static void start(const ParseInput& in, parse_state& st) {
    if constexpr (marked<Rule>) st.marks.push_back(mark{st.stack.size(), in.current()});
    if constexpr (std::is_same_v<Rule, token_rule>) {
      if (st.token_depth++ == 0) st.furthest = in.current();
    }
  }
  template <typename ParseInput>
  static void success(const ParseInput& in, parse_state& st) {
    if constexpr (builds<Rule>) {
      const mark m = st.marks.back();
      st.marks.pop_back();
      Rule::build(st, m, in.current());
    } else if constexpr (marked<Rule>) {
      st.marks.pop_back();
    }
    if constexpr (std::is_same_v<Rule, token_rule>) --st.token_depth;
  }
  template <typename ParseInput>
  static void failure(const ParseInput& in, parse_state& st) {
    if constexpr (marked<Rule>) {
      st.truncate(st.marks.back().height);
      st.marks.pop_back();
    }
    if constexpr (std::is_same_v<Rule, token_rule>) --st.token_depth;
    if (in.current() > st.furthest) st.furthest = in.current();
  }
};

template <typename Rule>
struct no_action : pegtl::nothing<Rule> {};

}  // namespace

namespace {
parse_outcome parse_streaming(std::string_view src, bool halt_on_error, int max_depth, token_sink& sink,
                              bool fast_paths) {
  parse_outcome out;
  token chain;
  parse_state st;
  st.fast_paths = fast_paths;
  st.base = src.data();
  st.furthest = src.data();
  st.max_depth = max_depth;
  pegtl::memory_input<pegtl::tracking_mode::lazy> in(src.data(), src.data() + src.size(), "template");
  st.marks.reserve(256);
  auto emit = [&] {
    for (auto& p : st.stack) sink.construct(std::move(std::get<token>(p)));
    st.stack.clear();
  };
  auto text_piece = [&](const char* from, const char* to) {
    sink.text(std::string_view(from, static_cast<std::size_t>(to - from)), st.offset(from));
  };
  const char* const end = in.end();
  std::size_t prune_at = 64;
  while (true) {
    // One top-level token at a time, handed over at once, so the piece stack stays small. The two
    // commonest tokens skip the generic machinery and are never built: plain text, and `#{Name.Child}`.
    while (!in.empty()) {
      const char* cur = in.current();
      if (cur[0] != '#' || in.size(2) < 2 || cur[1] != '{') {
        const char* p = scan_text(cur, end, text_piece);  // always advances: we are not at "#{"
        in.bump(static_cast<std::size_t>(p - cur));
        continue;
      }
      if (fast_paths) {
        if (const std::size_t n = reference_length(cur, end); n != 0) {
          sink.reference(std::string_view(cur + 2, n - 3), st.offset(cur));
          in.bump(n);
          continue;
        }
        if (const std::size_t n = filter_chain_length(cur, end, st.base, chain); n != 0) {
          sink.construct(std::move(chain));
          in.bump(n);
          continue;
        }
      }
      if (!pegtl::parse<token_rule, no_action, control>(in, st)) break;
      emit();
      // No later parse starts before this point, so memo entries for earlier positions are dead; dropping
      // them keeps the table small (entries further on, left by failed look-ahead, are kept). The sweep
      // runs when the table has doubled since the last one, so its cost stays linear overall.
      if (st.memo.size() >= prune_at) {
        const std::uint64_t here = static_cast<std::uint64_t>(st.offset(in.current())) << 2;
        std::erase_if(st.memo, [here](const auto& entry) { return entry.first < here; });
        prune_at = std::max<std::size_t>(64, 2 * st.memo.size());
      }
    }
    if (st.depth_exceeded) {
      out.depth_exceeded = true;
      out.error_offset = st.offset(in.current());
      return out;
    }
    if (in.empty()) break;
    const char* at = in.current();
    const char* upto = std::max(st.furthest, at + 1);
    out.furthest = st.offset(upto);
    if (halt_on_error) {
      out.failed = true;
      out.error_offset = st.offset(at);
      break;
    }
    // Continue mode: everything up to the furthest point reached becomes literal text.
    out.recovered.emplace_back(st.offset(at), st.offset(upto));
    text_piece(at, upto);
    in.bump(static_cast<std::size_t>(upto - at));
  }
  emit();
  return out;
}

// Collects the tokens of parse_template.
class token_collector final : public token_sink {
 public:
  explicit token_collector(token_list& tokens) : tokens_(tokens) {}
  void text(std::string_view text, std::uint32_t offset) override { add(token_kind::text, text, offset); }
  void reference(std::string_view path, std::uint32_t offset) override {
    add(token_kind::reference, path, offset);
  }
  void construct(token&& t) override { tokens_.push_back(std::move(t)); }

 private:
  void add(token_kind kind, std::string_view text, std::uint32_t offset) {
    token& t = tokens_.emplace_back();
    t.kind = kind;
    t.offset = offset;
    t.text = text;
  }
  token_list& tokens_;
};

parse_outcome collect_tokens(std::string_view src, bool halt_on_error, int max_depth, bool fast_paths) {
  token_list tokens;
  tokens.reserve(src.size() / 32 + 4);
  token_collector collector(tokens);
  auto out = parse_streaming(src, halt_on_error, max_depth, collector, fast_paths);
  out.tokens = std::move(tokens);
  return out;
}
}  // namespace

parse_outcome parse_template_streaming(std::string_view src, bool halt_on_error, int max_depth,
                                       token_sink& sink) {
  return parse_streaming(src, halt_on_error, max_depth, sink, true);
}

parse_outcome parse_template(std::string_view src, bool halt_on_error, int max_depth) {
  return collect_tokens(src, halt_on_error, max_depth, true);
}

parse_outcome parse_template_grammar_only(std::string_view src, bool halt_on_error, int max_depth) {
  return collect_tokens(src, halt_on_error, max_depth, false);
}

symbol reference_symbol(std::string_view path, std::uint32_t token_offset) {
  symbol sym;
  sym.offset = token_offset + 2;
  std::size_t from = 0;
  while (true) {
    const std::size_t dot = std::min(path.find('.', from), path.size());
    step s;
    s.kind = step_kind::identifier;
    s.text.assign(path.substr(from, dot - from));
    append_case_key(s.key, s.text);
    s.offset = static_cast<std::uint32_t>(sym.offset + from);
    sym.steps.push_back(std::move(s));
    if (dot == path.size()) break;
    from = dot + 1;
  }
  return sym;
}

std::optional<symbol> parse_name_path(std::string_view name) {
  parse_state st;
  st.base = name.data();
  st.furthest = name.data();
  pegtl::memory_input<pegtl::tracking_mode::lazy> in(name.data(), name.data() + name.size(), "name");
  if (!pegtl::parse<symbol_rule, no_action, control>(in, st) || st.stack.empty()) return std::nullopt;
  return std::get<symbol>(std::move(st.stack.back()));
}

}  // namespace cuttle::engine::detail

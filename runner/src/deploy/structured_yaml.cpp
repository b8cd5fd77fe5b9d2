// Structured configuration variables for YAML files (calamari-spec §5.5), by format-preserving splicing.
// Tested by tests/deploy/structured_config_test.cpp
//
// libfyaml parses the stream in event mode; the events' marks give the byte range of every scalar and
// collection, so a matched node's text is replaced in place and every other byte (comments, directives,
// anchors, tags, indentation, quoting, line endings) stays as it was. Paths are mapping keys (scalar keys
// only: the value of a complex key has no path) and sequence indexes joined by ':', case-folded, and apply
// to every document of a multi-document stream. A matched mapping or sequence is replaced as a whole.
//
// A scalar keeps its style where the new value allows it: a plain scalar stays plain when the value is safe
// as a plain scalar in its context and, unless the scalar is tagged or null, resolves to the same kind
// (string, number, boolean), so `port: 80` takes 8080 plainly but `name: web` takes "123" quoted; single
// quotes stay single unless the value needs escapes; literal and folded blocks are written as a literal
// block. Everything else is double-quoted. A matched collection takes the value parsed as a YAML fragment,
// written as a block at the node's column (or on one line if the collection was a flow collection); a value
// that does not parse is written as a double-quoted string.
//
// The result is parsed again before it is returned. Should it not parse (a case the rules above do not
// foresee), the replacements are added one at a time, each as planned or else in the most conservative form
// (double quotes, one-line flow collections without tags), keeping those after which the text still parses;
// the others leave their node unchanged with a warning.
//
// libfyaml's diagnostics are collected (never printed) and the first error becomes the parse error. Text
// that is not UTF-8 never reaches libfyaml 0.7.12, which loops forever on some of it; its other bugs met
// here (mis-decoded '' runs, a leak, a crash destroying a parser after one error) are worked around below.

#include <libfyaml.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cuttle/runner/deploy/structured_config.hpp"
#include "structured_text.hpp"

namespace cuttle::runner::deploy {
namespace {

using namespace detail;  // the shared text helpers (structured_text.hpp)

// --- names and paths ---------------------------------------------------------------------------------------

// --- libfyaml ----------------------------------------------------------------------------------------------

void discard_diagnostic(fy_diag*, void*, const char*, size_t) {}

/// A parser over `text` whose diagnostics are collected, never printed.
class event_parser {
 public:
  explicit event_parser(std::string_view text) {
    fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = nullptr;
    dcfg.output_fn = discard_diagnostic;
    dcfg.user = nullptr;
    dcfg.colorize = false;
    diag_ = fy_diag_create(&dcfg);
    if (diag_ != nullptr) fy_diag_set_collect_errors(diag_, true);
    fy_parse_cfg cfg{};
    cfg.flags = FYPCF_QUIET;
    cfg.diag = diag_;
    parser_ = fy_parser_create(&cfg);
    if (parser_ != nullptr && fy_parser_set_string(parser_, text.data(), text.size()) != 0) {
      fy_parser_destroy(parser_);
      parser_ = nullptr;
    }
  }
  ~event_parser() {
    if (parser_ != nullptr) {
      if (failed() && error().find("tab for indentation") != std::string::npos) {
        // libfyaml 0.7.12 corrupts its indentation stack on this error in some contexts ("? a:\t|") and then
        // crashes in fy_parser_destroy. Such a parser is kept, never destroyed: a little memory, once per bad
        // document, instead of a crash. (It stays reachable, so leak checkers do not report it.)
        static std::mutex lock;
        static auto* kept = new std::vector<fy_parser*>();  // never destroyed, so always reachable
        const std::lock_guard<std::mutex> guard(lock);
        kept->push_back(parser_);
      } else {
        fy_parser_destroy(parser_);
      }
    }
    if (diag_ != nullptr) fy_diag_destroy(diag_);
  }
  event_parser(const event_parser&) = delete;
  event_parser& operator=(const event_parser&) = delete;

  fy_parser* get() const { return parser_; }

  /// The first collected error as "line L, column C: message", or a generic one.
  std::string error() const {
    if (diag_ != nullptr) {
      void* it = nullptr;
      while (const fy_diag_error* e = fy_diag_errors_iterate(diag_, &it)) {
        if (e->type < FYET_ERROR) continue;
        return "line " + std::to_string(std::max(e->line, 1)) + ", column " +
               std::to_string(std::max(e->column, 1)) + ": " + (e->msg != nullptr ? e->msg : "invalid YAML");
      }
    }
    return "line 1, column 1: the document could not be parsed as YAML";
  }

  bool failed() const { return parser_ == nullptr || fy_parser_get_stream_error(parser_); }

 private:
  fy_diag* diag_ = nullptr;
  fy_parser* parser_ = nullptr;
};

struct event_deleter {
  fy_parser* parser;
  void operator()(fy_event* e) const { fy_parser_event_free(parser, e); }
};
using event_ptr = std::unique_ptr<fy_event, event_deleter>;

std::string_view token_text(fy_token* t) {
  if (t == nullptr) return {};
  std::size_t len = 0;
  const char* s = fy_token_get_text(t, &len);
  return s == nullptr ? std::string_view{} : std::string_view(s, len);
}

std::size_t token_end(fy_token* t) {
  if (t == nullptr) return 0;
  const fy_mark* m = fy_token_end_mark(t);
  return m == nullptr ? 0 : m->input_pos;
}

/// Parses the whole stream; the error message when it is not valid YAML.
std::optional<std::string> parse_error(std::string_view text) {
  event_parser p(text);
  if (p.get() == nullptr) return p.error();
  while (fy_event* raw = fy_parser_parse(p.get())) fy_parser_event_free(p.get(), raw);
  if (p.failed()) return p.error();
  return std::nullopt;
}

// --- text --------------------------------------------------------------------------------------------------

/// The value of a single-quoted scalar's content: '' is ', and line breaks fold as YAML says (blanks around a
/// break go; one break is a space, n breaks in a row are n-1 line feeds).
std::string unquote_single(std::string_view raw) {
  std::vector<std::string_view> lines;
  std::size_t i = 0;
  while (true) {
    const std::size_t eol = raw.find_first_of("\r\n", i);
    if (eol == std::string_view::npos) {
      lines.push_back(raw.substr(i));
      break;
    }
    lines.push_back(raw.substr(i, eol - i));
    i = eol + (raw[eol] == '\r' && eol + 1 < raw.size() && raw[eol + 1] == '\n' ? 2 : 1);
  }
  const auto trim_start = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    return s;
  };
  const auto trim_end = [](std::string_view s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  const auto append = [](std::string& out, std::string_view s) {
    for (std::size_t k = 0; k < s.size(); ++k) {
      out += s[k];
      if (s[k] == '\'' && k + 1 < s.size() && s[k + 1] == '\'') ++k;
    }
  };
  std::string out;
  append(out, lines.size() > 1 ? trim_end(lines[0]) : lines[0]);
  std::size_t empty = 0;
  for (std::size_t k = 1; k < lines.size(); ++k) {
    std::string_view line = trim_start(lines[k]);
    const bool last = k + 1 == lines.size();
    if (!last) line = trim_end(line);
    if (line.empty() && !last) {
      ++empty;
      continue;
    }
    out += empty > 0 ? std::string(empty, '\n') : std::string(" ");
    empty = 0;
    append(out, line);
  }
  return out;
}

/// The offset of the first byte that is not UTF-8, if any.
std::optional<std::size_t> invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t start = i;
    bool ok = true;
    (void)decode_utf8(s, i, ok);
    if (!ok) return start;
  }
  return std::nullopt;
}

bool is_break(char c) { return c == '\n' || c == '\r'; }

/// Characters YAML cannot hold literally anywhere (or that some readers take for line breaks): C0 and C1
/// controls other than TAB and LF, DEL, BOM, U+2028/9, non-characters; invalid UTF-8 too.
bool is_unprintable(char32_t cp, bool ok) {
  if (!ok) return true;
  if (cp == '\t' || cp == '\n') return false;
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0xFEFF || cp == 0x2028 ||
         cp == 0x2029 || cp == 0xFFFE || cp == 0xFFFF;
}

bool has_unprintable(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    bool ok = true;
    const char32_t cp = decode_utf8(s, i, ok);
    if (is_unprintable(cp, ok)) return true;
  }
  return false;
}

/// A double-quoted scalar for `s`, on one line.
std::string double_quoted(std::string_view s) {
  constexpr std::string_view hex = "0123456789ABCDEF";
  std::string out = "\"";
  std::size_t i = 0;
  while (i < s.size()) {
    bool ok = true;
    const char32_t cp = decode_utf8(s, i, ok);
    if (!ok) {
      out += "\\uFFFD";
      continue;
    }
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case 0:
        out += "\\0";
        break;
      case 0x07:
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case 0x0B:
        out += "\\v";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      case 0x1B:
        out += "\\e";
        break;
      case 0x85:
        out += "\\N";
        break;
      case 0x2028:
        out += "\\L";
        break;
      case 0x2029:
        out += "\\P";
        break;
      default:
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
          out += "\\x";
          out += hex[cp >> 4U];
          out += hex[cp & 0xFU];
        } else if (cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF) {
          out += "\\u";
          for (int shift = 12; shift >= 0; shift -= 4)
            out += hex[(cp >> static_cast<unsigned>(shift)) & 0xFU];
        } else {
          append_utf8(out, cp);
        }
    }
  }
  out += '"';
  return out;
}

/// A single-quoted scalar for `s`, when it can be one on one line.
std::optional<std::string> single_quoted(std::string_view s) {
  if (s.find('\n') != std::string_view::npos || s.find('\t') != std::string_view::npos || has_unprintable(s))
    return std::nullopt;
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

/// Whether `s` reads back as itself when written as a plain scalar in a block (or flow) context. Deliberately
/// stricter than YAML requires.
bool plain_safe(std::string_view s, bool flow) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ') return false;
  if (s.find('\n') != std::string_view::npos || s.find('\t') != std::string_view::npos || has_unprintable(s))
    return false;
  constexpr std::string_view bad_first = "[]{},#&*!|>'\"%@`?:";
  if (bad_first.find(s.front()) != std::string_view::npos) return false;
  if (s.front() == '-' && (s.size() == 1 || s[1] == ' ')) return false;
  if (s.starts_with("---") || s.starts_with("...")) return false;
  if (s.find(": ") != std::string_view::npos || s.find(" #") != std::string_view::npos || s.back() == ':')
    return false;
  if (flow && s.find_first_of(",[]{}:") != std::string_view::npos) return false;
  return true;
}

enum class scalar_kind { string, null, boolean, number };

bool all_of(std::string_view s, std::string_view allowed) {
  return !s.empty() && s.find_first_not_of(allowed) == std::string_view::npos;
}

bool has_digit(std::string_view s) { return s.find_first_of("0123456789") != std::string_view::npos; }

/// What a plain scalar resolves to under YAML 1.2's core schema or YAML 1.1's types (the union, so that a
/// value either reader would not take for a string counts as not a string).
scalar_kind plain_kind(std::string_view s) {
  static constexpr std::string_view nulls[] = {"", "~", "null", "Null", "NULL"};
  static constexpr std::string_view bools[] = {"true", "True", "TRUE", "false", "False", "FALSE", "y",  "Y",
                                               "yes",  "Yes",  "YES",  "n",     "N",     "no",    "No", "NO",
                                               "on",   "On",   "ON",   "off",   "Off",   "OFF"};
  for (const auto n : nulls)
    if (s == n) return scalar_kind::null;
  for (const auto b : bools)
    if (s == b) return scalar_kind::boolean;
  std::string_view t = s;
  if (!t.empty() && (t.front() == '+' || t.front() == '-')) t.remove_prefix(1);
  if (t == ".inf" || t == ".Inf" || t == ".INF" || t == ".nan" || t == ".NaN" || t == ".NAN")
    return scalar_kind::number;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
    return all_of(t.substr(2), "0123456789abcdefABCDEF_") ? scalar_kind::number : scalar_kind::string;
  if (t.size() > 2 && t[0] == '0' && t[1] == 'o')
    return all_of(t.substr(2), "01234567") ? scalar_kind::number : scalar_kind::string;
  if (t.size() > 2 && t[0] == '0' && t[1] == 'b')
    return all_of(t.substr(2), "01_") ? scalar_kind::number : scalar_kind::string;
  // Decimal (with YAML 1.1's '_' and base-60 ':' groups): digits [. digits] [e [sign] digits].
  std::size_t i = 0;
  const auto digits = [&](std::string_view allowed) {
    const std::size_t from = i;
    while (i < t.size() && allowed.find(t[i]) != std::string_view::npos) ++i;
    return t.substr(from, i - from);
  };
  const std::string_view whole = digits("0123456789_:");
  std::string_view fraction;
  if (i < t.size() && t[i] == '.') {
    ++i;
    fraction = digits("0123456789_");
  }
  if (!has_digit(whole) && !has_digit(fraction)) return scalar_kind::string;
  if (!whole.empty() && (whole.front() == '_' || whole.front() == ':')) return scalar_kind::string;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!has_digit(digits("0123456789"))) return scalar_kind::string;
  }
  return i == t.size() ? scalar_kind::number : scalar_kind::string;
}

/// Spaces for a column.
std::string spaces(std::size_t n) { return std::string(n, ' '); }

/// Re-indents a multi-line text placed at column `column`: every later non-empty line gets `column` spaces;
/// lines are joined with the document's newline.
std::string reindent(std::string_view text, std::size_t column, std::string_view newline) {
  std::string out;
  std::size_t i = 0;
  bool first = true;
  while (true) {
    const std::size_t eol = text.find('\n', i);
    const std::string_view line =
        text.substr(i, eol == std::string_view::npos ? std::string_view::npos : eol - i);
    if (!first) {
      out += newline;
      if (!line.empty()) out += spaces(column);
    }
    out += line;
    first = false;
    if (eol == std::string_view::npos) break;
    i = eol + 1;
  }
  return out;
}

/// The column (in characters) of byte offset `pos`.
std::size_t column_of(std::string_view text, std::size_t pos) {
  std::size_t start = pos;
  while (start > 0 && !is_break(text[start - 1])) --start;
  std::size_t col = 0;
  for (std::size_t i = start; i < pos; ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0U) != 0x80U) ++col;
  return col;
}

/// Skips white space, line breaks and comments from `i` (the space between two tokens).
std::size_t skip_gap(std::string_view text, std::size_t i) {
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || is_break(c)) {
      ++i;
    } else if (c == '#') {
      while (i < text.size() && !is_break(text[i])) ++i;
    } else {
      break;
    }
  }
  return i;
}

// --- finding the nodes -------------------------------------------------------------------------------------

enum class node_shape { scalar, block_scalar, empty, alias, block_collection, flow_collection };
enum class parent_kind { none, block_mapping, block_sequence, flow };

/// A node whose path matched a variable, and what is needed to write its new text.
struct found_node {
  std::size_t var = 0;
  node_shape shape = node_shape::scalar;
  fy_scalar_style style = FYSS_PLAIN;
  bool tagged = false;
  std::string old_text;  // a scalar's value
  std::size_t begin = 0;
  std::size_t end = 0;
  bool located = true;  // false when the node's text could not be found
  std::string prefix;   // text that goes before an empty scalar's value (" " or ": ")
  bool in_flow = false;
  parent_kind parent = parent_kind::none;
  std::size_t parent_indent = 0;  // the parent block collection's column
  std::size_t column = 0;         // a block collection's column
  // A block scalar: what follows its indicators on the header line, and its content's indentation (0: none).
  std::string header_tail;
  std::size_t content_indent = 0;
};

struct frame {
  bool mapping = false;
  bool flow = false;
  bool root = false;   // the document's root: its children's paths have no ':' before them
  bool quiet = false;  // nothing inside is matched (inside a match, or in or under a complex key)
  std::size_t column = 0;
  std::size_t path_size = 0;
  bool expect_key = true;
  bool key_ok = false;
  std::string key;
  std::size_t index = 0;
  std::size_t match = static_cast<std::size_t>(-1);
  // A matched single-pair mapping in a flow sequence ([k: v]): libfyaml marks it at its ':', so it starts
  // where its key does, known at the key.
  bool pending_begin = false;
};

class finder {
 public:
  finder(std::string_view text, const std::unordered_map<std::string, std::size_t>& index)
      : text_(text), index_(index) {}

  /// Walks the stream; false (with `error`) when it is not valid YAML.
  bool run(std::string& error) {
    event_parser p(text_);
    if (p.get() == nullptr) {
      error = p.error();
      return false;
    }
    while (fy_event* raw = fy_parser_parse(p.get())) {
      const event_ptr e(raw, event_deleter{p.get()});
      on_event(e.get());
    }
    if (p.failed()) {
      error = p.error();
      return false;
    }
    return true;
  }

  std::vector<found_node> nodes;

 private:
  void note_end(std::size_t pos) { last_token_end_ = std::max(last_token_end_, pos); }

  /// At a key: the start of the single-pair mapping it belongs to, if that is waiting for it.
  void settle_pair_begin(bool is_key, std::size_t key_begin, bool known) {
    if (!is_key || stack_.empty() || !stack_.back().pending_begin) return;
    frame& top = stack_.back();
    top.pending_begin = false;
    nodes[top.match].begin = key_begin;
    if (!known) nodes[top.match].located = false;
  }

  /// A scalar key's value. Single-quoted keys are decoded here: libfyaml 0.7.12 mis-decodes runs of ''
  /// escapes ('''''0x1' reads as '''0x) and leaks formatting long ones.
  std::string key_text(fy_event* e, const fy_mark* start, const fy_mark* end) const {
    fy_token* tok = fy_event_get_token(e);
    if (tok != nullptr && fy_token_scalar_style(tok) == FYSS_SINGLE_QUOTED && start != nullptr &&
        end != nullptr && start->input_pos <= end->input_pos && end->input_pos <= text_.size()) {
      const std::string_view raw = text_.substr(start->input_pos, end->input_pos - start->input_pos);
      return unquote_single(raw);
    }
    return std::string(token_text(tok));
  }

  void on_event(fy_event* e) {
    const fy_mark* start = fy_event_start_mark(e);
    const fy_mark* end = fy_event_end_mark(e);
    switch (e->type) {
      case FYET_DOCUMENT_START:
        stack_.clear();
        path_.clear();
        if (end != nullptr) note_end(end->input_pos);
        return;
      case FYET_SCALAR:
      case FYET_ALIAS:
      case FYET_MAPPING_START:
      case FYET_SEQUENCE_START:
        on_node(e, start, end);
        return;
      case FYET_MAPPING_END:
      case FYET_SEQUENCE_END:
        on_collection_end(e, end);
        return;
      default:
        return;
    }
  }

  void on_node(fy_event* e, const fy_mark* start, const fy_mark* end) {
    const bool collection = e->type == FYET_MAPPING_START || e->type == FYET_SEQUENCE_START;
    // Its role: a key, or a value with (maybe) a path.
    bool is_key = false;
    bool matchable = false;
    bool quiet = false;
    parent_kind parent = parent_kind::none;
    std::size_t parent_indent = 0;
    bool in_flow = false;
    if (!stack_.empty()) {
      frame& top = stack_.back();
      parent = top.flow      ? parent_kind::flow
               : top.mapping ? parent_kind::block_mapping
                             : parent_kind::block_sequence;
      parent_indent = top.column;
      in_flow = top.flow;
      quiet = top.quiet;
      if (top.mapping && top.expect_key) {
        is_key = true;
        top.expect_key = false;
        top.key_ok = e->type == FYET_SCALAR;
        top.key.clear();
        if (top.key_ok && !top.quiet) append_folded(top.key, key_text(e, start, end));
        quiet = true;
      } else {
        path_.resize(top.path_size);
        if (top.mapping) {
          top.expect_key = true;
          matchable = top.key_ok && !top.quiet;
          if (matchable) {
            if (!top.root) path_ += ':';
            path_ += top.key;
          }
        } else {
          matchable = !top.quiet;
          if (matchable) {
            if (!top.root) path_ += ':';
            path_ += std::to_string(top.index);
          }
          ++top.index;
        }
        if (!matchable) quiet = true;
      }
    }
    std::size_t var = 0;
    bool matched = false;
    if (matchable && !is_key) {
      const auto it = index_.find(path_);
      if (it != index_.end()) {
        matched = true;
        var = it->second;
      }
    }

    std::size_t props_end = 0;
    if (fy_token* a = fy_event_get_anchor_token(e)) props_end = std::max(props_end, token_end(a));
    if (fy_token* t = fy_event_get_tag_token(e)) props_end = std::max(props_end, token_end(t));
    const bool has_props = props_end != 0;

    found_node node;
    node.var = var;
    node.in_flow = in_flow;
    node.parent = parent;
    node.parent_indent = parent_indent;
    node.tagged = fy_event_get_tag_token(e) != nullptr;

    if (collection) {
      const bool flow = fy_event_get_node_style(e) == FYNS_FLOW;
      frame f;
      f.mapping = e->type == FYET_MAPPING_START;
      f.flow = flow || in_flow;
      f.root = stack_.empty();
      f.quiet = quiet || matched || is_key;
      const std::size_t begin = start != nullptr ? start->input_pos : std::max(last_token_end_, props_end);
      f.column = column_of(text_, begin);
      f.path_size = path_.size();
      settle_pair_begin(is_key, begin, !has_props);
      if (matched) {
        node.shape = flow ? node_shape::flow_collection : node_shape::block_collection;
        node.begin = begin;
        node.end = begin;
        node.column = f.column;
        f.match = nodes.size();
        f.pending_begin = f.mapping && parent == parent_kind::flow && !stack_.back().mapping &&
                          start != nullptr && end != nullptr && start->input_pos == end->input_pos;
        nodes.push_back(std::move(node));
      }
      note_end(std::max(end != nullptr ? end->input_pos : begin, props_end));  // past "{", "[" or "?"
      content_end_ = std::max(content_end_, end != nullptr ? end->input_pos : begin);
      stack_.push_back(std::move(f));
      return;
    }

    if (e->type == FYET_ALIAS) {
      // The mark covers the name; '*' is before it.
      const std::size_t b = start != nullptr && start->input_pos > 0 ? start->input_pos - 1 : 0;
      const std::size_t en = end != nullptr ? end->input_pos : b;
      settle_pair_begin(is_key, b, start != nullptr && !has_props);
      content_end_ = en;
      note_end(en);
      if (matched) {
        node.shape = node_shape::alias;
        node.begin = b;
        node.end = en;
        nodes.push_back(std::move(node));
      }
      return;
    }

    fy_token* tok = fy_event_get_token(e);
    node.style = tok != nullptr ? fy_token_scalar_style(tok) : FYSS_PLAIN;
    if (start == nullptr || end == nullptr) {
      // An empty (null) scalar has no text: find where a value would go.
      node.shape = node_shape::empty;
      settle_pair_begin(is_key, last_token_end_, false);
      if (is_key) return;  // an empty key: its ':' belongs to the value that follows
      locate_empty(node, has_props ? props_end : 0, parent);
      if (node.located) {
        content_end_ = node.begin;
        note_end(node.begin);
      } else {
        // Where the enclosing collections end is not known either.
        for (const frame& f : stack_) {
          if (f.match != static_cast<std::size_t>(-1)) nodes[f.match].located = false;
        }
      }
      if (matched) nodes.push_back(std::move(node));
      return;
    }
    std::size_t b = start->input_pos;
    std::size_t en = end->input_pos;
    if (node.style == FYSS_SINGLE_QUOTED || node.style == FYSS_DOUBLE_QUOTED) {
      // The marks cover the content; the quotes are outside.
      const char q = node.style == FYSS_SINGLE_QUOTED ? '\'' : '"';
      if (b > 0 && text_[b - 1] == q) --b;
      if (en < text_.size() && text_[en] == q) ++en;
    }
    if (node.style == FYSS_LITERAL || node.style == FYSS_FOLDED) {
      node.shape = node_shape::block_scalar;
      locate_block_scalar(node, std::max(last_token_end_, props_end), b, en);
      en = node.end;
    } else {
      node.shape = node_shape::scalar;
      node.begin = b;
      node.end = en;
    }
    settle_pair_begin(is_key, node.begin, !has_props);
    content_end_ = en;
    note_end(en);
    if (matched && !is_key) {
      // Only a plain scalar's value is needed (its kind). libfyaml 0.7.12 leaks when it formats some long
      // single-quoted scalars, so it is not asked for others.
      if (node.style == FYSS_PLAIN) node.old_text = std::string(token_text(tok));
      nodes.push_back(std::move(node));
    }
  }

  /// An empty scalar: after its anchor or tag, after the ':' of its key, or after its '-'.
  void locate_empty(found_node& node, std::size_t props_end, parent_kind parent) {
    node.prefix = " ";
    if (props_end != 0) {
      node.begin = node.end = props_end;
      return;
    }
    const std::size_t p = skip_gap(text_, last_token_end_);
    const bool mapping_value = !stack_.empty() && stack_.back().mapping;
    if (mapping_value && p < text_.size() && text_[p] == ':') {
      node.begin = node.end = p + 1;
    } else if (mapping_value && parent == parent_kind::flow) {
      node.begin = node.end = last_token_end_;
      node.prefix = ": ";
    } else if (parent == parent_kind::block_sequence && p < text_.size() && text_[p] == '-') {
      node.begin = node.end = p + 1;
    } else {
      node.located = false;
    }
  }

  /// A literal or folded scalar: from its indicator (found after the previous token) to the end of its last
  /// line (the content's marks [b, e) do not include the header).
  void locate_block_scalar(found_node& node, std::size_t from, std::size_t b, std::size_t e) {
    // The end: after the last line break in the content, unless text follows it (the end of the input).
    std::size_t end = b;
    const std::size_t last_break = e > b ? text_.find_last_of("\r\n", e - 1) : std::string_view::npos;
    if (last_break != std::string_view::npos && last_break >= b) {
      end = last_break + 1;
      if (text_.substr(end, e - end).find_first_not_of(' ') != std::string_view::npos) end = e;
    } else if (text_.substr(b, e - b).find_first_not_of(' ') != std::string_view::npos) {
      end = e;
    }
    node.end = end;
    // The content's indentation: that of its first line with text.
    for (std::size_t i = b; i < end;) {
      const std::size_t eol = std::min(text_.find_first_of("\r\n", i), end);
      const std::string_view line = text_.substr(i, eol - i);
      const std::size_t lead = line.find_first_not_of(' ');
      if (lead != std::string_view::npos) {
        node.content_indent = lead;
        break;
      }
      i = eol + 1;
    }
    // The header: skip separators and indicators ('-', ':', '?') until '|' or '>'.
    std::size_t h = from;
    while (h < b) {
      h = skip_gap(text_, h);
      if (h < b && (text_[h] == '-' || text_[h] == ':' || text_[h] == '?')) {
        ++h;
        continue;
      }
      break;
    }
    if (h >= b || (text_[h] != '|' && text_[h] != '>')) {
      node.located = false;
      node.begin = b;
      return;
    }
    node.begin = h;
    std::size_t t = h + 1;
    while (t < text_.size() && (text_[t] == '+' || text_[t] == '-' || (text_[t] >= '0' && text_[t] <= '9')))
      ++t;
    std::size_t eol = t;
    while (eol < text_.size() && !is_break(text_[eol])) ++eol;
    std::string_view tail = text_.substr(t, eol - t);
    if (tail.find('#') == std::string_view::npos) tail = {};
    node.header_tail = std::string(tail);
    // libfyaml accepts a comment right after the indicators ("|+6# c"); YAML requires a space before it, and
    // the forms written here (a new header, or a quoted scalar) would not parse without one.
    if (node.header_tail.starts_with('#')) node.header_tail.insert(0, 1, ' ');
  }

  void on_collection_end(fy_event* e, const fy_mark* end) {
    if (stack_.empty()) return;
    const frame f = std::move(stack_.back());
    stack_.pop_back();
    if (fy_event_get_node_style(e) == FYNS_FLOW || f.flow) {
      if (end != nullptr) {
        content_end_ = end->input_pos;
        note_end(end->input_pos);
      }
    }
    if (f.match != static_cast<std::size_t>(-1))
      nodes[f.match].end = std::max(content_end_, nodes[f.match].begin);
    if (!stack_.empty()) path_.resize(stack_.back().path_size);
  }

  std::string_view text_;
  const std::unordered_map<std::string, std::size_t>& index_;
  std::vector<frame> stack_;
  std::string path_;
  std::size_t last_token_end_ = 0;  // the end of the last token seen
  std::size_t content_end_ = 0;     // the end of the last node's text
};

// --- writing -----------------------------------------------------------------------------------------------

struct doc_layout {
  std::string newline = "\n";
  int indent = 2;
};

doc_layout detect_layout(std::string_view text) {
  doc_layout l;
  const std::size_t nl = text.find_first_of("\r\n");
  if (nl != std::string_view::npos && text[nl] == '\r')
    l.newline = nl + 1 < text.size() && text[nl + 1] == '\n' ? "\r\n" : "\r";
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t eol = text.find_first_of("\r\n", i);
    const std::string_view line =
        text.substr(i, eol == std::string_view::npos ? std::string_view::npos : eol - i);
    const std::size_t lead = line.find_first_not_of(' ');
    if (lead != std::string_view::npos && lead > 0 && line[lead] != '#') {
      l.indent = static_cast<int>(std::min<std::size_t>(lead, 9));
      break;
    }
    if (eol == std::string_view::npos) break;
    i = eol + 1;
  }
  return l;
}

/// A YAML fragment (one document) parsed with libfyaml.
class fragment {
 public:
  explicit fragment(std::string_view text) : text_(text), parser_(text) {
    if (parser_.get() == nullptr || invalid_utf8(text)) return;
    doc_ = fy_parse_load_document(parser_.get());
    bool ok = doc_ != nullptr && !parser_.failed();
    if (ok) {
      if (fy_document* extra = fy_parse_load_document(parser_.get())) {
        fy_parse_document_destroy(parser_.get(), extra);
        ok = false;
      }
    }
    if (!ok || parser_.failed() || fy_document_root(doc_) == nullptr) release();
  }
  ~fragment() { release(); }
  fragment(const fragment&) = delete;
  fragment& operator=(const fragment&) = delete;

  fy_node* root() const { return doc_ == nullptr ? nullptr : fy_document_root(doc_); }

  /// The root scalar's value. A single-quoted scalar is decoded here (libfyaml 0.7.12 mis-decodes runs of ''
  /// and leaks formatting long ones).
  std::string root_scalar() const {
    fy_node* n = root();
    if (fy_node_get_style(n) == FYNS_SINGLE_QUOTED) {
      fy_token* tok = fy_node_get_scalar_token(n);
      const fy_mark* start = tok != nullptr ? fy_token_start_mark(tok) : nullptr;
      const fy_mark* end = tok != nullptr ? fy_token_end_mark(tok) : nullptr;
      if (start != nullptr && end != nullptr && start->input_pos <= end->input_pos &&
          end->input_pos <= text_.size()) {
        const std::string_view raw = text_.substr(start->input_pos, end->input_pos - start->input_pos);
        return unquote_single(raw);
      }
    }
    std::size_t len = 0;
    const char* s = fy_node_get_scalar(n, &len);
    return s == nullptr ? std::string() : std::string(s, len);
  }

  /// The fragment in block style (or on one line in flow style); `plain` also drops tags and anchors, which
  /// may refer to directives or anchors the document does not have.
  std::optional<std::string> emit(bool flow, int indent, bool plain = false) const {
    if (doc_ == nullptr) return std::nullopt;
    const auto mode = flow ? FYECF_MODE_FLOW_ONELINE : FYECF_MODE_BLOCK;
    const auto strip = plain ? FYECF_STRIP_TAGS | FYECF_STRIP_LABELS : 0;
    const auto flags = static_cast<fy_emitter_cfg_flags>(
        mode | strip | FYECF_INDENT(indent) | FYECF_WIDTH_INF | FYECF_DOC_START_MARK_OFF |
        FYECF_DOC_END_MARK_OFF | FYECF_NO_ENDING_NEWLINE | FYECF_VERSION_DIR_OFF | FYECF_TAG_DIR_OFF);
    char* s = fy_emit_document_to_string(doc_, flags);
    if (s == nullptr) return std::nullopt;
    std::string out(s);
    std::free(s);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    if (flow) std::replace(out.begin(), out.end(), '\n', ' ');
    return out;
  }

 private:
  void release() {
    if (doc_ != nullptr) fy_parse_document_destroy(parser_.get(), doc_);
    doc_ = nullptr;
  }

  std::string_view text_;
  event_parser parser_;
  fy_document* doc_ = nullptr;
};

/// A scalar for a value put where a plain scalar of kind `old` (nullopt: any kind will do) was.
std::string plain_or_quoted(std::string_view value, std::optional<scalar_kind> old, bool in_flow) {
  if (plain_safe(value, in_flow) && (!old || plain_kind(value) == *old)) return std::string(value);
  return double_quoted(value);
}

/// A literal block scalar for `value` whose content lines are at column `indent`, when it can be one.
std::optional<std::string> literal_block(std::string_view value, std::size_t indent, std::string_view tail,
                                         std::string_view newline) {
  std::string_view body = value;
  std::size_t trailing = 0;
  while (!body.empty() && body.back() == '\n') {
    body.remove_suffix(1);
    ++trailing;
  }
  if (body.empty() || has_unprintable(body)) return std::nullopt;
  const std::size_t first_text = body.find_first_not_of('\n');
  if (body[first_text] == ' ' || body[first_text] == '\t') return std::nullopt;
  std::string out = "|";
  if (trailing == 0) out += '-';
  if (trailing > 1) out += '+';
  out += tail;
  std::size_t i = 0;
  while (true) {
    const std::size_t eol = body.find('\n', i);
    const std::string_view line =
        body.substr(i, eol == std::string_view::npos ? std::string_view::npos : eol - i);
    out += newline;
    if (!line.empty()) {
      out += spaces(indent);
      out += line;
    }
    if (eol == std::string_view::npos) break;
    i = eol + 1;
  }
  for (std::size_t k = 0; k < trailing; ++k) out += newline;
  return out;
}

struct replacement {
  std::size_t begin;
  std::size_t end;
  std::string text;
};

/// The new text for a matched node; nullopt (with a warning) when it cannot be written.
std::optional<std::string> new_text(std::string_view doc, const found_node& n, const structured_variable& var,
                                    const doc_layout& l, bool conservative) {
  const std::optional<std::string>& value = var.value;
  std::string text;
  switch (n.shape) {
    case node_shape::empty:
      text =
          n.prefix + (value ? (conservative ? double_quoted(*value) : plain_or_quoted(*value, {}, n.in_flow))
                            : std::string("null"));
      break;
    case node_shape::alias:
      text = value ? (conservative ? double_quoted(*value) : plain_or_quoted(*value, {}, n.in_flow)) : "null";
      break;
    case node_shape::scalar: {
      if (!value) {
        text = "null";
      } else if (conservative || n.style == FYSS_DOUBLE_QUOTED) {
        text = double_quoted(*value);
      } else if (n.style == FYSS_SINGLE_QUOTED) {
        text = single_quoted(*value).value_or(double_quoted(*value));
      } else {
        const scalar_kind old = plain_kind(n.old_text);
        const bool any_kind = n.tagged || old == scalar_kind::null;
        text = plain_or_quoted(*value, any_kind ? std::nullopt : std::optional(old), n.in_flow);
      }
      break;
    }
    case node_shape::block_scalar: {
      const std::size_t indent =
          n.content_indent > n.parent_indent ? n.content_indent : n.parent_indent + l.indent;
      std::optional<std::string> literal;
      if (value && !conservative) literal = literal_block(*value, indent, n.header_tail, l.newline);
      text = literal ? *literal : (value ? double_quoted(*value) : "null") + n.header_tail;
      break;
    }
    case node_shape::block_collection:
    case node_shape::flow_collection: {
      const bool flow = n.shape == node_shape::flow_collection || conservative;
      std::optional<std::string> emitted;
      bool block_sequence = false;
      if (!value) {
        emitted = "null";
      } else {
        const fragment f(*value);
        fy_node* root = f.root();
        std::size_t tag_len = 0;
        if (root != nullptr && fy_node_get_type(root) == FYNT_SCALAR &&
            fy_node_get_tag(root, &tag_len) == nullptr && fy_node_get_anchor(root) == nullptr &&
            fy_node_get_style(root) != FYNS_ALIAS) {
          const std::string scalar = f.root_scalar();
          const bool plain = fy_node_get_style(root) == FYNS_PLAIN;
          emitted = conservative
                        ? double_quoted(scalar)
                        : plain_or_quoted(scalar, plain ? std::nullopt : std::optional(scalar_kind::string),
                                          n.in_flow || flow);
        } else if (root != nullptr) {
          emitted = f.emit(flow, l.indent, conservative);
          block_sequence =
              !flow && fy_node_get_type(root) == FYNT_SEQUENCE && emitted && emitted->starts_with("-");
        }
        if (!emitted) emitted = double_quoted(*value);
      }
      std::size_t column = n.column;
      std::string lead;
      // An indentless sequence (`key:` then `- x` at the key's column) can only be replaced by a block
      // sequence at that column; anything else moves right.
      if (n.shape == node_shape::block_collection && n.parent == parent_kind::block_mapping &&
          column <= n.parent_indent && !block_sequence) {
        lead = spaces(n.parent_indent + static_cast<std::size_t>(l.indent) - column);
        column = n.parent_indent + static_cast<std::size_t>(l.indent);
      }
      text = lead + reindent(*emitted, column, l.newline);
      break;
    }
  }
  // The node's text ran to the end of its line (a block scalar, or a collection ending with one).
  if (n.end > n.begin && is_break(doc[n.end - 1]) && (text.empty() || !is_break(text.back())))
    text += l.newline;
  return text;
}

std::string splice(std::string_view text, const std::vector<replacement>& reps) {
  std::string out;
  std::size_t copied = 0;
  for (const replacement& r : reps) {
    out.append(text.substr(copied, r.begin - copied));
    out += r.text;
    copied = r.end;
  }
  out.append(text.substr(copied));
  return out;
}

}  // namespace

replace_outcome replace_yaml(std::string_view text, std::span<const structured_variable> vars) {
  replace_outcome out;
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t k = 0; k < vars.size(); ++k) {
    if (vars[k].name.empty() || is_octopus_variable(vars[k].name)) continue;
    index[folded(vars[k].name)] = k;
  }
  // YAML is Unicode text; libfyaml 0.7.12 also loops forever on some invalid UTF-8 ("%\x8B").
  if (const auto bad = invalid_utf8(text)) {
    out.error = position_message(text, *bad, "expected UTF-8 text");
    return out;
  }
  finder found(text, index);
  if (!found.run(out.error)) return out;
  out.parsed = true;

  const doc_layout l = detect_layout(text);
  std::vector<const found_node*> usable;
  for (const found_node& n : found.nodes) {
    if (n.located) {
      usable.push_back(&n);
    } else {
      out.warnings.push_back("Unable to set value for " + vars[n.var].name +
                             ". The node's text could not be located in the document.");
    }
  }
  std::sort(usable.begin(), usable.end(),
            [](const found_node* a, const found_node* b) { return a->begin < b->begin; });

  // Usually every replacement is written as planned and the result parses. When it does not, the
  // replacements are added one at a time, each as planned or else in the conservative form, keeping those
  // after which the document still parses.
  std::vector<replacement> planned;
  for (const found_node* n : usable) {
    if (auto t = new_text(text, *n, vars[n->var], l, false))
      planned.push_back({n->begin, n->end, std::move(*t)});
  }
  std::string result = splice(text, planned);
  if (planned.size() == usable.size() && (planned.empty() || !parse_error(result))) {
    out.text = std::move(result);
    out.replaced = planned.size();
    return out;
  }
  std::vector<replacement> accepted;
  for (const found_node* n : usable) {
    bool done = false;
    for (const bool conservative : {false, true}) {
      auto t = new_text(text, *n, vars[n->var], l, conservative);
      if (!t) continue;
      accepted.push_back({n->begin, n->end, std::move(*t)});
      if (!parse_error(splice(text, accepted))) {
        done = true;
        break;
      }
      accepted.pop_back();
    }
    if (!done) {
      out.warnings.push_back("Unable to set value for " + vars[n->var].name +
                             ". The new value could not be written as valid YAML.");
    }
  }
  out.text = splice(text, accepted);
  out.replaced = accepted.size();
  return out;
}

}  // namespace cuttle::runner::deploy

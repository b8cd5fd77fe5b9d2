// Structured configuration variables for JSON files (calamari-spec §5.5), by format-preserving splicing.
// Tested by tests/deploy/structured_config_test.cpp
//
// A recursive-descent scanner reads the document and notes, for every value, its path (property names and
// array indexes joined by ':', case-folded) and the byte range of its text. Matched values get a new text,
// chosen by the type of the token that is there now, and the new texts are spliced into the original: every
// other byte (white space, comments, key order, escapes, number spellings, line endings) is kept. When an
// object or array matches, it is replaced as a whole and nothing inside it is looked at.
//
// The reader accepts what Newtonsoft.Json's JToken.Parse accepts in configuration files in practice: strict
// JSON plus `//` and `/* */` comments and a trailing comma in objects and arrays. It does not accept
// single-quoted strings, unquoted property names, NaN/Infinity or hexadecimal numbers. Nesting is limited to
// 1000 levels, so a hostile document cannot exhaust the stack.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "cuttle/runner/deploy/structured_config.hpp"
#include "structured_text.hpp"

namespace cuttle::runner::deploy {
namespace {

using namespace detail;  // the shared text helpers (structured_text.hpp)

constexpr std::size_t max_depth = 1000;

// --- names and paths ---------------------------------------------------------------------------------------

/// Folded path -> index of the variable that applies there (the last one with that name).
std::unordered_map<std::string, std::size_t> index_variables(std::span<const structured_variable> vars) {
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t k = 0; k < vars.size(); ++k) {
    if (vars[k].name.empty() || is_octopus_variable(vars[k].name)) continue;
    index[folded(vars[k].name)] = k;
  }
  return index;
}

// --- reading ---------------------------------------------------------------------------------------------

enum class token_kind {
  begin_object,
  end_object,
  begin_array,
  end_array,
  colon,
  comma,
  string,
  number,
  literal
};

struct token {
  token_kind kind;
  std::size_t begin;
  std::size_t end;
};

enum class value_kind { object, array, string, number, boolean, null };

struct parse_failure {
  std::size_t pos;
  std::string expected;
};

/// Called for every value (except the root) with its folded path and its text range; returns false when the
/// value's descendants are not to be reported.
struct value_visitor {
  virtual ~value_visitor() = default;
  virtual bool visit(const std::string& path, value_kind kind, std::size_t begin, std::size_t end) = 0;
  /// Called when a value reported by visit() (and returning false there) turns out to end at `end`.
  virtual void finish(std::size_t end) = 0;
};

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

unsigned hex_value(char c) {
  if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
  return static_cast<unsigned>(c - 'A' + 10);
}

class reader {
 public:
  explicit reader(std::string_view text) : text_(text) {
    // A byte order mark is not part of the document (the caller normally strips it).
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
  }

  /// Reads the whole document, reporting values to `visitor` (may be null). Throws parse_failure.
  void read_document(value_visitor* visitor) {
    visitor_ = visitor;
    const token first = next();
    std::string path;
    read_value(first, path, 0, visitor != nullptr);
    skip_space();
    if (pos_ < text_.size()) throw parse_failure{pos_, "expected the end of the document"};
  }

  /// Reads the whole text as one value and returns its tokens (comments and white space dropped).
  std::vector<token> read_tokens() {
    record_ = true;
    read_document(nullptr);
    return std::move(tokens_);
  }

 private:
  void skip_space() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/') {
        while (pos_ < text_.size() && text_[pos_] != '\n' && text_[pos_] != '\r') ++pos_;
      } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '*') {
        const std::size_t close = text_.find("*/", pos_ + 2);
        if (close == std::string_view::npos)
          throw parse_failure{text_.size(), "expected '*/' to close the comment"};
        pos_ = close + 2;
      } else {
        return;
      }
    }
  }

  /// The next token; at the end of the text, or at a character that starts no token, throws "expected
  /// <what>".
  token next(std::string_view what = "a JSON value") {
    skip_space();
    if (pos_ >= text_.size()) throw parse_failure{pos_, "expected " + std::string(what)};
    const std::size_t begin = pos_;
    const char c = text_[pos_];
    token t{token_kind::literal, begin, begin + 1};
    switch (c) {
      case '{':
        t.kind = token_kind::begin_object;
        break;
      case '}':
        t.kind = token_kind::end_object;
        break;
      case '[':
        t.kind = token_kind::begin_array;
        break;
      case ']':
        t.kind = token_kind::end_array;
        break;
      case ':':
        t.kind = token_kind::colon;
        break;
      case ',':
        t.kind = token_kind::comma;
        break;
      case '"':
        t.kind = token_kind::string;
        t.end = scan_string(begin);
        break;
      default:
        if (c == '-' || is_digit(c)) {
          t.kind = token_kind::number;
          t.end = scan_number(begin);
        } else if (text_.substr(begin, 4) == "true" || text_.substr(begin, 4) == "null") {
          t.end = begin + 4;
        } else if (text_.substr(begin, 5) == "false") {
          t.end = begin + 5;
        } else {
          throw parse_failure{begin, "expected " + std::string(what)};
        }
    }
    pos_ = t.end;
    if (record_) tokens_.push_back(t);
    return t;
  }

  /// The end of the string starting with the quote at `begin`.
  std::size_t scan_string(std::size_t begin) const {
    std::size_t i = begin + 1;
    while (i < text_.size()) {
      const char c = text_[i];
      if (c == '"') return i + 1;
      if (c == '\\') {
        if (i + 1 >= text_.size()) break;
        const char e = text_[i + 1];
        if (e == 'u') {
          for (std::size_t k = 2; k < 6; ++k) {
            if (i + k >= text_.size() || !is_hex(text_[i + k]))
              throw parse_failure{i, "expected four hexadecimal digits after \\u"};
          }
          i += 6;
          continue;
        }
        if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't')
          throw parse_failure{i, "expected a valid escape sequence"};
        i += 2;
        continue;
      }
      ++i;
    }
    throw parse_failure{text_.size(), "expected '\"' to close the string"};
  }

  /// The end of the number starting at `begin` (JSON's grammar exactly).
  std::size_t scan_number(std::size_t begin) const {
    std::size_t i = begin;
    if (text_[i] == '-') ++i;
    if (i >= text_.size() || !is_digit(text_[i])) throw parse_failure{i, "expected a digit"};
    if (text_[i] == '0') {
      ++i;
    } else {
      while (i < text_.size() && is_digit(text_[i])) ++i;
    }
    if (i < text_.size() && text_[i] == '.') {
      ++i;
      if (i >= text_.size() || !is_digit(text_[i])) throw parse_failure{i, "expected a digit"};
      while (i < text_.size() && is_digit(text_[i])) ++i;
    }
    if (i < text_.size() && (text_[i] == 'e' || text_[i] == 'E')) {
      ++i;
      if (i < text_.size() && (text_[i] == '+' || text_[i] == '-')) ++i;
      if (i >= text_.size() || !is_digit(text_[i])) throw parse_failure{i, "expected a digit"};
      while (i < text_.size() && is_digit(text_[i])) ++i;
    }
    return i;
  }

  /// Decodes a string token's content (escapes resolved; lone surrogates become U+FFFD).
  std::string decode_string(const token& t) const {
    std::string out;
    const std::string_view body = text_.substr(t.begin + 1, t.end - t.begin - 2);
    for (std::size_t i = 0; i < body.size(); ++i) {
      if (body[i] != '\\') {
        out += body[i];
        continue;
      }
      const char e = body[++i];
      switch (e) {
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          char32_t cp = 0;
          for (std::size_t k = 1; k <= 4; ++k) cp = (cp << 4U) | hex_value(body[i + k]);
          i += 4;
          if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < body.size() && body.substr(i + 1, 2) == "\\u") {
            char32_t low = 0;
            for (std::size_t k = 3; k <= 6; ++k) low = (low << 4U) | hex_value(body[i + k]);
            if (low >= 0xDC00 && low <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10U) + (low - 0xDC00);
              i += 6;
            }
          }
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
          append_utf8(out, cp);
          break;
        }
        default:
          out += e;  // '"', '\\', '/'
      }
    }
    return out;
  }

  static value_kind kind_of(const token& t, std::string_view text) {
    switch (t.kind) {
      case token_kind::begin_object:
        return value_kind::object;
      case token_kind::begin_array:
        return value_kind::array;
      case token_kind::string:
        return value_kind::string;
      case token_kind::number:
        return value_kind::number;
      default:
        return text[t.begin] == 'n' ? value_kind::null : value_kind::boolean;
    }
  }

  /// Reads the value that starts with `first`. `path` is the value's folded path; `report` says whether
  /// values inside are reported.
  void read_value(const token& first, std::string& path, std::size_t depth, bool report) {
    switch (first.kind) {
      case token_kind::string:
      case token_kind::number:
      case token_kind::literal:
        return;
      case token_kind::begin_object:
      case token_kind::begin_array:
        break;
      default:
        throw parse_failure{first.begin, "expected a JSON value"};
    }
    if (depth >= max_depth) throw parse_failure{first.begin, "expected at most 1000 levels of nesting"};
    const bool object = first.kind == token_kind::begin_object;
    const token_kind close = object ? token_kind::end_object : token_kind::end_array;
    const std::size_t base = path.size();
    std::size_t index = 0;
    token t = next(object ? "a property name in double quotes" : "a JSON value");
    while (t.kind != close) {
      if (object) {
        if (t.kind != token_kind::string)
          throw parse_failure{t.begin, "expected a property name in double quotes"};
        if (report) {
          if (depth > 0) path += ':';
          append_folded(path, decode_string(t));
        }
        const token colon = next("':'");
        if (colon.kind != token_kind::colon) throw parse_failure{colon.begin, "expected ':'"};
        t = next();
      } else if (report) {
        if (depth > 0) path += ':';
        path += std::to_string(index);
      }
      ++index;
      read_member(t, path, depth, report);
      path.resize(base);
      const token sep = next(object ? "',' or '}'" : "',' or ']'");
      if (sep.kind == close) break;
      if (sep.kind != token_kind::comma)
        throw parse_failure{sep.begin, object ? "expected ',' or '}'" : "expected ',' or ']'"};
      t = next(object ? "a property name in double quotes" : "a JSON value");
    }
  }

  /// A value inside an object or array: reported, then read.
  void read_member(const token& first, std::string& path, std::size_t depth, bool report) {
    if (first.kind == token_kind::end_object || first.kind == token_kind::end_array ||
        first.kind == token_kind::colon || first.kind == token_kind::comma)
      throw parse_failure{first.begin, "expected a JSON value"};
    bool descend = report;
    if (report) descend = visitor_->visit(path, kind_of(first, text_), first.begin, first.end);
    read_value(first, path, depth + 1, descend);
    if (report && !descend) visitor_->finish(pos_);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  value_visitor* visitor_ = nullptr;
  bool record_ = false;
  std::vector<token> tokens_;
};

// --- writing ---------------------------------------------------------------------------------------------

/// A JSON string literal for `s`: quotes, backslashes and control characters escaped, other characters kept
/// as UTF-8 (invalid UTF-8 becomes U+FFFD).
std::string json_string(std::string_view s) {
  std::string out = "\"";
  std::size_t i = 0;
  while (i < s.size()) {
    bool ok = true;
    const char32_t cp = decode_utf8(s, i, ok);
    if (!ok) {
      out += "\xEF\xBF\xBD";
      continue;
    }
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (cp < 0x20) {
          constexpr std::string_view hex = "0123456789abcdef";
          out += "\\u00";
          out += hex[cp >> 4U];
          out += hex[cp & 0xFU];
        } else {
          append_utf8(out, cp);
        }
    }
  }
  out += '"';
  return out;
}

std::string_view trim(std::string_view s) {
  const auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

/// Whether `s` is exactly one number in JSON's grammar.
bool is_json_number(std::string_view s) {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t from = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    return i - from;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (digits() == 0) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

/// Whether number text (sign, digits, fraction, exponent) is too large for a double. Underflow (1e-400) is
/// not: that reads as 0.
bool overflows_double(std::string_view s) {
  const std::string_view unsigned_part = !s.empty() && s[0] == '+' ? s.substr(1) : s;
  double d = 0;
  const auto res = std::from_chars(unsigned_part.data(), unsigned_part.data() + unsigned_part.size(), d);
  if (res.ec != std::errc::result_out_of_range) return false;
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  long long magnitude = 0;
  bool nonzero = false;
  bool fraction = false;
  long long fraction_zeros = 0;
  for (; i < s.size() && (is_digit(s[i]) || s[i] == '.'); ++i) {
    if (s[i] == '.') {
      fraction = true;
      continue;
    }
    if (!nonzero && s[i] != '0') {
      nonzero = true;
      magnitude = fraction ? -fraction_zeros : 0;
    }
    if (!fraction) {
      if (nonzero) ++magnitude;
    } else if (!nonzero) {
      ++fraction_zeros;
    }
  }
  if (!nonzero) return false;
  long long exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    const bool negative = i < s.size() && s[i] == '-';
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    for (; i < s.size() && is_digit(s[i]); ++i)
      exponent = std::min<long long>(exponent * 10 + (s[i] - '0'), 1000000);
    if (negative) exponent = -exponent;
  }
  return magnitude + exponent > 0;
}

/// The JSON number text for a variable value put where a number was, or nothing if it is not a number. JSON
/// numbers are kept as written; other spellings .NET's parsers accept (a leading '+', leading zeros, "5.",
/// ".5") are normalised.
std::optional<std::string> number_text(std::string_view value) {
  const std::string_view s = trim(value);
  if (overflows_double(s)) return std::nullopt;  // .NET reads it as infinity, which JSON cannot hold
  if (is_json_number(s)) return std::string(s);
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  const std::size_t int_begin = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  const std::size_t int_digits = i - int_begin;
  std::size_t frac_digits = 0;
  bool integral = true;
  if (i < s.size() && s[i] == '.') {
    integral = false;
    ++i;
    const std::size_t f = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    frac_digits = i - f;
  }
  if (int_digits + frac_digits == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    integral = false;
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    const std::size_t e = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == e) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  const std::string_view unsigned_part = s[0] == '+' ? s.substr(1) : s;
  if (integral) {
    std::int64_t n = 0;
    const auto [end, ec] =
        std::from_chars(unsigned_part.data(), unsigned_part.data() + unsigned_part.size(), n);
    if (ec == std::errc{} && end == unsigned_part.data() + unsigned_part.size()) return std::to_string(n);
  }
  double d = 0;
  const auto [end, ec] =
      std::from_chars(unsigned_part.data(), unsigned_part.data() + unsigned_part.size(), d);
  if (ec != std::errc{} || end != unsigned_part.data() + unsigned_part.size() || !std::isfinite(d))
    return std::nullopt;
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, d);
  std::string out(buf, res.ptr);
  if (!is_json_number(out)) return std::nullopt;
  return out;
}

/// How the document lays out its text, for writing a replaced object or array.
struct layout {
  bool multi_line = false;
  std::string newline = "\n";
  std::string indent_unit = "  ";
};

layout detect_layout(std::string_view text) {
  layout l;
  const std::size_t nl = text.find_first_of("\r\n");
  if (nl == std::string_view::npos) return l;
  l.multi_line = true;
  if (text[nl] == '\r') l.newline = nl + 1 < text.size() && text[nl + 1] == '\n' ? "\r\n" : "\r";
  // The indent unit: the leading white space of the first indented line.
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t eol = text.find_first_of("\r\n", i);
    const std::size_t line_end = eol == std::string_view::npos ? text.size() : eol;
    const std::string_view line = text.substr(i, line_end - i);
    const std::size_t lead = line.find_first_not_of(" \t");
    if (lead != std::string_view::npos && lead > 0) {
      const std::string_view ws = line.substr(0, lead);
      if (ws.find_first_not_of(' ') == std::string_view::npos ||
          ws.find_first_not_of('\t') == std::string_view::npos) {
        l.indent_unit = std::string(ws);
        break;
      }
    }
    if (eol == std::string_view::npos) break;
    i = eol + 1;
  }
  return l;
}

/// The UTF-16 unit of the \uXXXX escape at `i` (which the reader has checked).
unsigned escape_unit(std::string_view s, std::size_t i) {
  unsigned u = 0;
  for (std::size_t k = 2; k < 6; ++k) u = (u << 4U) | hex_value(s[i + k]);
  return u;
}

/// A string token's text from a variable value, with raw control characters (which the reader tolerates)
/// escaped and invalid UTF-8 and unpaired surrogate escapes replaced by U+FFFD, so that what is written is
/// strict JSON.
std::string clean_string_token(std::string_view tok) {
  std::string out;
  std::size_t i = 0;
  while (i < tok.size()) {
    const std::size_t start = i;
    if (tok[i] == '\\') {
      std::size_t len = 2;
      if (tok[i + 1] == 'u') {
        len = 6;
        const unsigned u = escape_unit(tok, i);
        const bool paired = u >= 0xD800 && u <= 0xDBFF && i + 12 <= tok.size() && tok[i + 6] == '\\' &&
                            tok[i + 7] == 'u' && escape_unit(tok, i + 6) >= 0xDC00 &&
                            escape_unit(tok, i + 6) <= 0xDFFF;
        if (paired) {
          len = 12;
        } else if (u >= 0xD800 && u <= 0xDFFF) {
          out += "\\ufffd";
          i += len;
          continue;
        }
      }
      out += tok.substr(i, len);
      i += len;
      continue;
    }
    bool ok = true;
    const char32_t cp = decode_utf8(tok, i, ok);
    if (!ok) {
      out += "\xEF\xBF\xBD";
    } else if (cp < 0x20) {
      const std::string escaped = json_string(tok.substr(start, i - start));
      out += escaped.substr(1, escaped.size() - 2);
    } else {
      out += tok.substr(start, i - start);
    }
  }
  return out;
}

/// Writes a value given as tokens, compactly or indented (`base` is the indentation of the line it starts
/// on).
std::string write_tokens(std::string_view src, const std::vector<token>& tokens, const layout& l,
                         std::string_view base) {
  std::string out;
  std::string indent(base);
  const auto newline = [&] {
    out += l.newline;
    out += indent;
  };
  for (std::size_t k = 0; k < tokens.size(); ++k) {
    const token& t = tokens[k];
    const std::string_view tok = src.substr(t.begin, t.end - t.begin);
    const bool next_closes = k + 1 < tokens.size() && (tokens[k + 1].kind == token_kind::end_object ||
                                                       tokens[k + 1].kind == token_kind::end_array);
    switch (t.kind) {
      case token_kind::begin_object:
      case token_kind::begin_array:
        out += tok;
        if (next_closes) {
          out += src.substr(tokens[k + 1].begin, 1);
          ++k;
        } else if (l.multi_line) {
          indent += l.indent_unit;
          newline();
        }
        break;
      case token_kind::end_object:
      case token_kind::end_array:
        if (l.multi_line) {
          indent.resize(indent.size() - l.indent_unit.size());
          newline();
        }
        out += tok;
        break;
      case token_kind::comma:
        if (next_closes) break;  // a trailing comma
        out += ',';
        if (l.multi_line) newline();
        break;
      case token_kind::colon:
        out += l.multi_line ? ": " : ":";
        break;
      case token_kind::string:
        out += clean_string_token(tok);
        break;
      case token_kind::number:  // too large for a double: many readers reject it, so it is kept as text
        out += overflows_double(tok) ? json_string(tok) : std::string(tok);
        break;
      default:
        out += tok;
    }
  }
  return out;
}

/// The leading white space of the line that contains `pos`.
std::string_view line_indent(std::string_view text, std::size_t pos) {
  std::size_t start = pos;
  while (start > 0 && text[start - 1] != '\n' && text[start - 1] != '\r') --start;
  std::size_t end = start;
  while (end < pos && (text[end] == ' ' || text[end] == '\t')) ++end;
  return text.substr(start, end - start);
}

struct match {
  std::size_t var;
  value_kind kind;
  std::size_t begin;
  std::size_t end;
};

class collector final : public value_visitor {
 public:
  explicit collector(const std::unordered_map<std::string, std::size_t>& index) : index_(index) {}

  bool visit(const std::string& path, value_kind kind, std::size_t begin, std::size_t end) override {
    const auto it = index_.find(path);
    if (it == index_.end()) return true;
    matches.push_back({it->second, kind, begin, end});
    return false;
  }

  void finish(std::size_t end) override { matches.back().end = end; }

  std::vector<match> matches;

 private:
  const std::unordered_map<std::string, std::size_t>& index_;
};

}  // namespace

replace_outcome replace_json(std::string_view text, std::span<const structured_variable> vars) {
  replace_outcome out;
  const auto index = index_variables(vars);
  collector found(index);
  try {
    reader(text).read_document(&found);
  } catch (const parse_failure& e) {
    out.error = position_message(text, e.pos, e.expected);
    return out;
  }
  out.parsed = true;
  const layout l = detect_layout(text);
  std::size_t copied = 0;
  for (const match& m : found.matches) {
    const structured_variable& var = vars[m.var];
    std::string replacement;
    if (!var.value) {
      replacement = "null";
    } else {
      const std::string& value = *var.value;
      switch (m.kind) {
        case value_kind::number:
          replacement = number_text(value).value_or(json_string(value));
          break;
        case value_kind::boolean: {
          const std::string lowered = folded(trim(value));
          replacement = lowered == "true" || lowered == "false" ? lowered : json_string(value);
          break;
        }
        case value_kind::string:
        case value_kind::null:
          replacement = json_string(value);
          break;
        case value_kind::object:
        case value_kind::array: {
          try {
            const auto tokens = reader(value).read_tokens();
            replacement = write_tokens(value, tokens, l, line_indent(text, m.begin));
          } catch (const parse_failure&) {
            out.warnings.push_back("Unable to set value for " + var.name +
                                   ". The variable value could not be parsed as JSON.");
            continue;
          }
          break;
        }
      }
    }
    out.text.append(text.substr(copied, m.begin - copied));
    out.text += replacement;
    copied = m.end;
    ++out.replaced;
  }
  out.text.append(text.substr(copied));
  return out;
}

}  // namespace cuttle::runner::deploy

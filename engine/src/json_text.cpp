// A small JSON reader with a lenient mode (Newtonsoft's: unquoted names, single quotes, comments) and
// a strict mode with positioned errors for variables files; plus Newtonsoft-style text output.
// Tested by tests/engine/variables_test.cpp

#include "json_text.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "printer.hpp"
#include "unicode.hpp"

namespace cuttle::engine::detail {
namespace {

class reader {
 public:
  reader(std::string_view text, bool strict, int max_depth)
      : begin_(text.data()),
        p_(text.data()),
        end_(text.data() + text.size()),
        strict_(strict),
        max_depth_(max_depth) {}

  const char* position() const { return p_; }
  const char* begin() const { return begin_; }
  const std::optional<json_error>& error() const { return error_; }

  bool fail(const char* at, std::string message) {
    if (!error_) error_ = json_error{static_cast<std::size_t>(at - begin_), std::move(message)};
    return false;
  }

  bool skip_ws() {
    while (p_ < end_) {
      const char c = *p_;
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++p_;
      } else if (!strict_ && c == '/' && p_ + 1 < end_ && p_[1] == '/') {
        while (p_ < end_ && *p_ != '\n') ++p_;
      } else if (!strict_ && c == '/' && p_ + 1 < end_ && p_[1] == '*') {
        const char* close = nullptr;
        for (const char* q = p_ + 2; q + 1 < end_; ++q) {
          if (q[0] == '*' && q[1] == '/') {
            close = q;
            break;
          }
        }
        if (close == nullptr) return fail(p_, "unterminated comment");
        p_ = close + 2;
      } else if (!strict_ && whitespace_length(p_, end_) != 0) {
        p_ += whitespace_length(p_, end_);
      } else {
        break;
      }
    }
    return true;
  }

  bool at_end() const { return p_ >= end_; }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool parse_hex4(unsigned& value) {
    if (end_ - p_ < 4) return fail(p_, "expected four hex digits after '\\u'");
    value = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hex(p_[i]);
      if (h < 0) return fail(p_ + i, "expected four hex digits after '\\u'");
      value = value * 16 + static_cast<unsigned>(h);
    }
    p_ += 4;
    return true;
  }

  // Skips whole 8-byte words that hold no quote, no backslash and (strict mode) no control character,
  // with the bit tricks for "has a zero byte" and "has a byte below n"; the byte loop finishes the job.
  void skip_plain_words(char quote) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    const std::uint64_t quotes = ones * static_cast<unsigned char>(quote);
    const std::uint64_t backslashes = ones * static_cast<unsigned char>('\\');
    while (end_ - p_ >= 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, p_, 8);
      const std::uint64_t q = w ^ quotes;
      const std::uint64_t b = w ^ backslashes;
      std::uint64_t hit = ((q - ones) & ~q) | ((b - ones) & ~b);
      if (strict_) hit |= (w - ones * 0x20) & ~w;
      if ((hit & highs) != 0) return;
      p_ += 8;
    }
  }

  /// The first byte from s that is `quote`, a backslash or (strict mode) a control character; end_ if
  /// there is none. 16 bytes at a time with SSE2 (every x86-64), then a byte at a time.
  const char* next_special(const char* s, char quote) const {
#if defined(__SSE2__)
    const __m128i quotes = _mm_set1_epi8(quote);
    const __m128i backslashes = _mm_set1_epi8('\\');
    const __m128i below_space = _mm_set1_epi8(0x1F);
    while (end_ - s >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
      __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, quotes), _mm_cmpeq_epi8(v, backslashes));
      if (strict_) hit = _mm_or_si128(hit, _mm_cmpeq_epi8(_mm_min_epu8(v, below_space), v));  // v <= 0x1F
      const int mask = _mm_movemask_epi8(hit);
      if (mask != 0) return s + __builtin_ctz(static_cast<unsigned>(mask));
      s += 16;
    }
#endif
    for (; s < end_; ++s) {
      if (*s == quote || *s == '\\' || (strict_ && static_cast<unsigned char>(*s) < 0x20)) return s;
    }
    return end_;
  }

  /// Decodes the string at p_ (its opening quote) onto `out`. The fast path takes the common kind: a
  /// terminated string with no control character (strict mode) and no \u escape. A string without escapes
  /// is appended straight from the input; one with escapes is decoded into a scratch buffer that keeps its
  /// capacity, so `out` gets one exactly sized allocation. Anything else goes to the general loop, which
  /// also gives the exact error for a bad string.
  bool parse_string(std::string& out) {
    const char quote = *p_;
    const char* const body = p_ + 1;
    const char* s = body;
    const char* stop = next_special(s, quote);
    if (stop < end_ && *stop == quote) {
      out.append(s, stop);
      p_ = stop + 1;
      return true;
    }
    scratch_.clear();
    while (stop + 1 < end_ && *stop == '\\') {
      scratch_.append(s, stop);
      char c = stop[1];
      switch (c) {
        case '"':
        case '\\':
        case '/':
          break;
        case 'b':
          c = '\b';
          break;
        case 'f':
          c = '\f';
          break;
        case 'n':
          c = '\n';
          break;
        case 'r':
          c = '\r';
          break;
        case 't':
          c = '\t';
          break;
        default:
          if (strict_ || c == 'u') return parse_string_in_general(quote, body, out);
      }
      scratch_.push_back(c);
      s = stop + 2;
      stop = next_special(s, quote);
      if (stop < end_ && *stop == quote) {
        scratch_.append(s, stop);
        out.append(scratch_);
        p_ = stop + 1;
        return true;
      }
    }
    return parse_string_in_general(quote, body, out);
  }

  /// Any string, with the exact error for a bad one; `body` is just after the opening quote.
  bool parse_string_in_general(char quote, const char* body, std::string& out) {
    const char* open = body - 1;
    p_ = body;
    while (true) {
      const char* run = p_;
      skip_plain_words(quote);
      while (p_ < end_ && *p_ != quote && *p_ != '\\' &&
             (static_cast<unsigned char>(*p_) >= 0x20 || !strict_))
        ++p_;
      out.append(run, p_);
      if (p_ >= end_) return fail(open, "unterminated string");
      const char c = *p_;
      if (c == quote) {
        ++p_;
        return true;
      }
      if (c != '\\') return fail(p_, "control character in string (must be escaped)");
      if (++p_ >= end_) return fail(open, "unterminated string");
      const char e = *p_++;
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          unsigned cp = 0;
          if (!parse_hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF && end_ - p_ >= 6 && p_[0] == '\\' && p_[1] == 'u') {
            const char* save = p_;
            p_ += 2;
            unsigned lo = 0;
            if (parse_hex4(lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              p_ = save;
              error_.reset();
            }
          }
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // a lone surrogate cannot be UTF-8
          append_utf8(out, static_cast<char32_t>(cp));
          break;
        }
        default:
          if (strict_) return fail(p_ - 2, std::string("invalid escape '\\") + e + "'");
          out.push_back(e);
      }
    }
  }

  bool parse_number(json& out) {
    const char* start = p_;
    if (p_ < end_ && *p_ == '-') ++p_;
    const char* int_start = p_;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    if (p_ == int_start) return fail(start, "expected a value");
    if (strict_ && p_ - int_start > 1 && *int_start == '0')
      return fail(start, "leading zeros are not allowed");
    bool is_float = false;
    if (p_ < end_ && *p_ == '.') {
      is_float = true;
      ++p_;
      const char* f = p_;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      if (p_ == f) return fail(p_, "expected digits after '.'");
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      is_float = true;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      const char* f = p_;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      if (p_ == f) return fail(p_, "expected digits in the exponent");
    }
    const std::string text(start, p_);
    if (!is_float) {
      errno = 0;
      char* stop = nullptr;
      const long long v = std::strtoll(text.c_str(), &stop, 10);
      if (errno == 0) {
        out = v;
        return true;
      }
    }
    out = std::strtod(text.c_str(), nullptr);
    return true;
  }

  static bool is_name_char(unsigned char c) {
    return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '$' || c == '-';
  }

  bool parse_key(std::string& key) {
    if (p_ < end_ && (*p_ == '"' || (!strict_ && *p_ == '\''))) return parse_string(key);
    if (strict_) return fail(p_, "expected a property name in double quotes");
    const char* start = p_;
    while (p_ < end_ && is_name_char(static_cast<unsigned char>(*p_))) ++p_;
    if (p_ == start) return fail(p_, "expected a property name");
    key.assign(start, p_);
    return true;
  }

  bool literal(const char* word, json value, json& out) {
    const std::size_t n = std::strlen(word);
    if (static_cast<std::size_t>(end_ - p_) >= n && std::memcmp(p_, word, n) == 0) {
      p_ += n;
      out = std::move(value);
      return true;
    }
    return fail(p_, "expected a value");
  }

  bool parse_value(json& out, int depth) {
    if (!skip_ws()) return false;
    if (p_ >= end_) return fail(p_, "expected a value, found the end of the input");
    if (depth > max_depth_) return fail(p_, "JSON nested too deeply");
    const char c = *p_;
    if (c == '{') {
      ++p_;
      out = json::object();
      if (!skip_ws()) return false;
      if (p_ < end_ && *p_ == '}') {
        ++p_;
        return true;
      }
      while (true) {
        if (!skip_ws()) return false;
        std::string key;
        if (!parse_key(key)) return false;
        if (!skip_ws()) return false;
        if (p_ >= end_ || *p_ != ':') return fail(p_, "expected ':' after a property name");
        ++p_;
        json value;
        if (!parse_value(value, depth + 1)) return false;
        out[key] = std::move(value);
        if (!skip_ws()) return false;
        if (p_ < end_ && *p_ == ',') {
          ++p_;
          if (!strict_) {
            if (!skip_ws()) return false;
            if (p_ < end_ && *p_ == '}') {
              ++p_;
              return true;
            }
          }
          continue;
        }
        if (p_ < end_ && *p_ == '}') {
          ++p_;
          return true;
        }
        return fail(p_, "expected ',' or '}' in an object");
      }
    }
    if (c == '[') {
      ++p_;
      out = json::array();
      if (!skip_ws()) return false;
      if (p_ < end_ && *p_ == ']') {
        ++p_;
        return true;
      }
      while (true) {
        json value;
        if (!parse_value(value, depth + 1)) return false;
        out.push_back(std::move(value));
        if (!skip_ws()) return false;
        if (p_ < end_ && *p_ == ',') {
          ++p_;
          if (!strict_) {
            if (!skip_ws()) return false;
            if (p_ < end_ && *p_ == ']') {
              ++p_;
              return true;
            }
          }
          continue;
        }
        if (p_ < end_ && *p_ == ']') {
          ++p_;
          return true;
        }
        return fail(p_, "expected ',' or ']' in an array");
      }
    }
    if (c == '"' || (!strict_ && c == '\'')) {
      std::string s;
      if (!parse_string(s)) return false;
      out = std::move(s);
      return true;
    }
    if (c == 't') return literal("true", true, out);
    if (c == 'f') return literal("false", false, out);
    if (c == 'n') return literal("null", nullptr, out);
    return parse_number(out);
  }

  // Skips one value (strict), leaving p_ after it.
  bool skip_value() {
    json ignored;
    return parse_value(ignored, 1);
  }

  void set_position(const char* p) { p_ = p; }

 private:
  std::string scratch_;  // parse_string's buffer for strings with escapes; keeps its capacity
  const char* begin_;
  const char* p_;
  const char* end_;
  bool strict_;
  int max_depth_;
  std::optional<json_error> error_;
};

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out.append(buf);
        } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) {
          out.append("\\u0085");
          ++i;
        } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
                    static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
          out.append(static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029");
          i += 2;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void append_compact(std::string& out, const json& v) {
  switch (v.type()) {
    case json::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, item] : v.items()) {
        if (!first) out.push_back(',');
        first = false;
        append_json_string(out, k);
        out.push_back(':');
        append_compact(out, item);
      }
      out.push_back('}');
      break;
    }
    case json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : v) {
        if (!first) out.push_back(',');
        first = false;
        append_compact(out, item);
      }
      out.push_back(']');
      break;
    }
    case json::value_t::string:
      append_json_string(out, v.get_ref<const std::string&>());
      break;
    case json::value_t::boolean:
      out.append(v.get<bool>() ? "true" : "false");
      break;
    case json::value_t::null:
      out.append("null");
      break;
    case json::value_t::number_float: {
      std::string s = format_double(v.get<double>());
      if (s.find_first_of(".EN") == std::string::npos && s.find("Infinity") == std::string::npos)
        s.append(".0");
      out.append(s);
      break;
    }
    default:
      out.append(v.dump());
  }
}

}  // namespace

std::optional<json> parse_lenient_json(std::string_view text, int max_depth) {
  reader r(text, false, max_depth);
  if (!r.skip_ws() || r.at_end()) return std::nullopt;
  const char c = *r.position();
  if (c != '{' && c != '[') return std::nullopt;
  json out;
  if (!r.parse_value(out, 1)) return std::nullopt;
  if (!r.skip_ws() || !r.at_end()) return std::nullopt;
  return out;
}

std::string json_scalar_text(const json& value) {
  switch (value.type()) {
    case json::value_t::string:
      return value.get<std::string>();
    case json::value_t::boolean:
      return value.get<bool>() ? "True" : "False";
    case json::value_t::null:
      return "";
    case json::value_t::number_float:
      return format_double(value.get<double>());
    case json::value_t::object:
    case json::value_t::array:
      return compact_json(value);
    default:
      return value.dump();
  }
}

std::string compact_json(const json& value) {
  std::string out;
  append_compact(out, value);
  return out;
}

std::optional<json_error> read_variables_object(
    std::string_view text, const std::function<void(std::string&&, std::optional<std::string>&&)>& on_entry) {
  // A UTF-8 byte-order mark is allowed and ignored.
  std::size_t skip = 0;
  if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
      static_cast<unsigned char>(text[1]) == 0xBB && static_cast<unsigned char>(text[2]) == 0xBF) {
    skip = 3;
  }
  reader r(text, true, 512);
  r.set_position(text.data() + skip);
  auto error = [&]() { return r.error(); };
  r.skip_ws();
  if (r.at_end()) {
    r.fail(r.position(), "expected a JSON object, found the end of the input");
    return error();
  }
  if (*r.position() != '{') {
    r.fail(r.position(), "expected a JSON object '{' mapping variable names to values");
    return error();
  }
  r.set_position(r.position() + 1);
  r.skip_ws();
  if (!r.at_end() && *r.position() == '}') {
    r.set_position(r.position() + 1);
  } else {
    while (true) {
      r.skip_ws();
      std::string name;
      if (r.at_end() || *r.position() != '"') {
        r.fail(r.position(), "expected a variable name in double quotes");
        return error();
      }
      if (!r.parse_string(name)) return error();
      r.skip_ws();
      if (r.at_end() || *r.position() != ':') {
        r.fail(r.position(), "expected ':' after a variable name");
        return error();
      }
      r.set_position(r.position() + 1);
      r.skip_ws();
      if (r.at_end()) {
        r.fail(r.position(), "expected a value, found the end of the input");
        return error();
      }
      const char c = *r.position();
      if (c == '"') {
        std::string value;
        if (!r.parse_string(value)) return error();
        on_entry(std::move(name), std::move(value));
      } else if (c == 'n' &&
                 text.substr(static_cast<std::size_t>(r.position() - text.data())).starts_with("null")) {
        r.set_position(r.position() + 4);
        on_entry(std::move(name), std::nullopt);
      } else {
        const char* start = r.position();
        if (!r.skip_value()) return error();
        // Compact text: the source without insignificant whitespace.
        std::string compact;
        bool in_string = false;
        for (const char* q = start; q < r.position(); ++q) {
          const char ch = *q;
          if (in_string) {
            compact.push_back(ch);
            if (ch == '\\') {
              compact.push_back(*++q);
            } else if (ch == '"') {
              in_string = false;
            }
          } else if (ch == '"') {
            in_string = true;
            compact.push_back(ch);
          } else if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
            compact.push_back(ch);
          }
        }
        on_entry(std::move(name), std::move(compact));
      }
      r.skip_ws();
      if (!r.at_end() && *r.position() == ',') {
        r.set_position(r.position() + 1);
        continue;
      }
      if (!r.at_end() && *r.position() == '}') {
        r.set_position(r.position() + 1);
        break;
      }
      r.fail(r.position(), "expected ',' or '}' after a variable");
      return error();
    }
  }
  r.skip_ws();
  if (!r.at_end()) {
    r.fail(r.position(), "unexpected text after the closing '}'");
    return error();
  }
  return std::nullopt;
}

}  // namespace cuttle::engine::detail

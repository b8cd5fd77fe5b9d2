// Structured configuration variables for Java .properties files (calamari-spec §5.5), by splicing.
// Tested by tests/deploy/structured_config_test.cpp
//
// The reader follows java.util.Properties.load (JDK 17): natural lines end at LF, CR or CR LF; a line whose
// first non-blank character (while the logical line is still empty) is '#' or '!' is a comment; an odd
// number of backslashes at the end of a line joins the next line, whose leading blanks are dropped; the key
// runs to the first unescaped '=', ':' or blank, then blanks, at most one '=' or ':' and blanks again
// separate it from the value. Escapes (\uXXXX, \t, \n, \r, \f, and '\' before any other character) are
// decoded in keys (for matching) and checked in values; a malformed \uXXXX is the one parse error, as in
// Java.
//
// Each logical line is kept as its characters with their offsets in the original text, so the value of a
// matched key, continuation lines included, is a byte range that the escaped new value replaces.

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cuttle/runner/deploy/structured_config.hpp"
#include "structured_text.hpp"

namespace cuttle::runner::deploy {
namespace {

using namespace detail;  // the shared text helpers (structured_text.hpp)

/// Names that start with "Octopus" (any case) are Octopus's own variables and never replace properties.
bool is_octopus_name(std::string_view name) {
  constexpr std::string_view prefix = "octopus";
  if (name.size() < prefix.size()) return false;
  for (std::size_t k = 0; k < prefix.size(); ++k) {
    char c = name[k];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[k]) return false;
  }
  return true;
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\f'; }
bool is_break(char c) { return c == '\n' || c == '\r'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// One key/value line: its logical characters, where each came from, and the key/value split.
struct logical_line {
  std::string chars;
  std::vector<std::size_t> offsets;
  std::size_t end = 0;  // where the line's terminator (or the text) starts
};

struct malformed_escape {
  std::size_t pos;
};

/// Java's loadConvert over logical characters [from, to): escapes decoded to UTF-8 (surrogate pairs joined,
/// lone surrogates as U+FFFD). Throws malformed_escape at a \u without four hex digits.
std::string unescape(const logical_line& line, std::size_t from, std::size_t to) {
  std::string out;
  char32_t high = 0;  // a pending high surrogate
  const auto put = [&](char32_t unit, bool utf16) {
    if (high != 0) {
      if (utf16 && unit >= 0xDC00 && unit <= 0xDFFF) {
        append_utf8(out, 0x10000 + ((high - 0xD800) << 10U) + (unit - 0xDC00));
        high = 0;
        return;
      }
      append_utf8(out, 0xFFFD);
      high = 0;
    }
    if (utf16 && unit >= 0xD800 && unit <= 0xDBFF) {
      high = unit;
    } else if (utf16 && unit >= 0xDC00 && unit <= 0xDFFF) {
      append_utf8(out, 0xFFFD);
    } else if (utf16) {
      append_utf8(out, unit);
    } else {
      out += static_cast<char>(unit);
    }
  };
  for (std::size_t k = from; k < to; ++k) {
    const char c = line.chars[k];
    if (c != '\\' || k + 1 >= to) {
      put(static_cast<unsigned char>(c), false);
      continue;
    }
    const std::size_t slash = k;
    const char e = line.chars[++k];
    if (e == 'u') {
      if (k + 4 >= to) throw malformed_escape{line.offsets[slash]};
      char32_t unit = 0;
      for (std::size_t d = 1; d <= 4; ++d) {
        const int v = hex_value(line.chars[k + d]);
        if (v < 0) throw malformed_escape{line.offsets[slash]};
        unit = (unit << 4U) | static_cast<char32_t>(v);
      }
      k += 4;
      put(unit, true);
      continue;
    }
    switch (e) {
      case 't':
        put('\t', false);
        break;
      case 'r':
        put('\r', false);
        break;
      case 'n':
        put('\n', false);
        break;
      case 'f':
        put('\f', false);
        break;
      default:
        put(static_cast<unsigned char>(e), false);
    }
  }
  if (high != 0) append_utf8(out, 0xFFFD);
  return out;
}

/// Reads the next logical line from `i` (Properties.LineReader); false at the end of the text.
bool read_line(std::string_view text, std::size_t& i, logical_line& line) {
  line.chars.clear();
  line.offsets.clear();
  bool skip_blanks = true;
  bool appended_begin = false;
  bool preceding_backslash = false;
  while (i < text.size()) {
    const char c = text[i];
    if (skip_blanks) {
      if (is_blank(c) || (!appended_begin && is_break(c))) {
        ++i;
        continue;
      }
      skip_blanks = false;
      appended_begin = false;
    }
    if (line.chars.empty() && (c == '#' || c == '!')) {  // a comment runs to the end of its natural line
      while (i < text.size() && !is_break(text[i])) ++i;
      skip_blanks = true;
      continue;
    }
    if (!is_break(c)) {
      line.chars += c;
      line.offsets.push_back(i);
      preceding_backslash = c == '\\' ? !preceding_backslash : false;
      ++i;
      continue;
    }
    if (line.chars.empty()) {  // a blank line
      skip_blanks = true;
      ++i;
      continue;
    }
    if (!preceding_backslash) {
      line.end = i;
      return true;
    }
    // A continuation: the backslash goes, the next line's leading blanks are skipped.
    line.chars.pop_back();
    line.offsets.pop_back();
    skip_blanks = true;
    appended_begin = true;
    preceding_backslash = false;
    i += (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ? 2 : 1;
  }
  if (line.chars.empty()) return false;
  if (preceding_backslash) {
    line.chars.pop_back();
    line.offsets.pop_back();
  }
  line.end = text.size();
  return true;
}

/// A value escaped as Properties.store writes it (saveConvert), except that '#', '!', '=' and ':' are escaped
/// only as the first character (after a blank separator a leading '=' or ':' would be taken for the
/// separator): backslash, TAB, LF, CR, FF as \\ \t \n \r \f, a leading space as "\ ", and everything outside
/// printable ASCII as \uXXXX (UTF-16; invalid UTF-8 becomes \uFFFD).
std::string escape_value(std::string_view value) {
  constexpr std::string_view hex = "0123456789ABCDEF";
  std::string out;
  const auto unit = [&](char32_t u) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += hex[(u >> static_cast<unsigned>(shift)) & 0xFU];
  };
  std::size_t i = 0;
  while (i < value.size()) {
    const bool first = i == 0;
    bool ok = true;
    char32_t cp = decode_utf8(value, i, ok);
    if (!ok) cp = 0xFFFD;
    switch (cp) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\f':
        out += "\\f";
        break;
      case ' ':
        out += first ? "\\ " : " ";
        break;
      case '#':
      case '!':
      case '=':
      case ':':
        if (first) out += '\\';
        out += static_cast<char>(cp);
        break;
      default:
        if (cp < 0x20 || cp > 0x7E) {
          if (cp >= 0x10000) {
            unit(0xD800 + ((cp - 0x10000) >> 10U));
            unit(0xDC00 + ((cp - 0x10000) & 0x3FFU));
          } else {
            unit(cp);
          }
        } else {
          out += static_cast<char>(cp);
        }
    }
  }
  return out;
}

}  // namespace

replace_outcome replace_properties(std::string_view text, std::span<const structured_variable> vars) {
  replace_outcome out;
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t k = 0; k < vars.size(); ++k) {
    if (is_octopus_name(vars[k].name)) continue;
    index[folded(vars[k].name)] = k;
  }

  struct splice {
    std::size_t begin;
    std::size_t end;
    std::string text;
  };
  std::vector<splice> splices;
  std::size_t i = 0;
  logical_line line;
  try {
    while (read_line(text, i, line)) {
      const std::size_t limit = line.chars.size();
      if (limit == 0) continue;  // a lone backslash at the end of the text (Java reads the key "" here)
      // Properties.load0: the key ends at the first unescaped separator or blank.
      std::size_t key_len = 0;
      std::size_t value_start = limit;
      bool has_separator = false;
      bool preceding_backslash = false;
      while (key_len < limit) {
        const char c = line.chars[key_len];
        if ((c == '=' || c == ':') && !preceding_backslash) {
          value_start = key_len + 1;
          has_separator = true;
          break;
        }
        if (is_blank(c) && !preceding_backslash) {
          value_start = key_len + 1;
          break;
        }
        preceding_backslash = c == '\\' ? !preceding_backslash : false;
        ++key_len;
      }
      while (value_start < limit) {
        const char c = line.chars[value_start];
        if (!is_blank(c)) {
          if (has_separator || (c != '=' && c != ':')) break;
          has_separator = true;
        }
        ++value_start;
      }
      const std::string key = unescape(line, 0, key_len);
      (void)unescape(line, value_start, limit);  // only to reject a malformed \uXXXX, as Java does
      const auto it = index.find(folded(key));
      if (it == index.end()) continue;
      // The value's text starts right after the separator's last character, so that continuation lines
      // between the separator and the value go with the value.
      const std::size_t begin = line.offsets[value_start - 1] + 1;
      std::string replacement = key_len == limit ? ":" : "";
      replacement += escape_value(vars[it->second].value.value_or(""));
      splices.push_back({begin, line.end, std::move(replacement)});
    }
  } catch (const malformed_escape& e) {
    out.error = position_message(text, e.pos, "expected four hexadecimal digits after \\u");
    return out;
  }
  out.parsed = true;
  std::size_t copied = 0;
  for (const splice& s : splices) {
    out.text.append(text.substr(copied, s.begin - copied));
    out.text += s.text;
    copied = s.end;
  }
  out.text.append(text.substr(copied));
  out.replaced = splices.size();
  return out;
}

}  // namespace cuttle::runner::deploy

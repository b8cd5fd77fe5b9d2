// The text helpers shared by the structured-configuration replacers.
// Tested by tests/deploy/structured_config_test.cpp

#include "structured_text.hpp"

#include <cctype>

namespace cuttle::runner::deploy::detail {

/// Decodes one UTF-8 sequence at `i` (advancing `i`); invalid bytes come back as themselves with ok=false.
char32_t decode_utf8(std::string_view s, std::size_t& i, bool& ok) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  ok = true;
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int len = 0;
  char32_t cp = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1FU;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0FU;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07U;
  } else {
    ok = false;
    ++i;
    return b0;
  }
  if (i + static_cast<std::size_t>(len) > s.size()) {
    ok = false;
    ++i;
    return b0;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((b & 0xC0U) != 0x80U) {
      ok = false;
      ++i;
      return b0;
    }
    cp = (cp << 6U) | (b & 0x3FU);
  }
  const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
  if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ok = false;
    ++i;
    return b0;
  }
  i += static_cast<std::size_t>(len);
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0U | (cp >> 6U));
    out += static_cast<char>(0x80U | (cp & 0x3FU));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0U | (cp >> 12U));
    out += static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU));
    out += static_cast<char>(0x80U | (cp & 0x3FU));
  } else {
    out += static_cast<char>(0xF0U | (cp >> 18U));
    out += static_cast<char>(0x80U | ((cp >> 12U) & 0x3FU));
    out += static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU));
    out += static_cast<char>(0x80U | (cp & 0x3FU));
  }
}

/// Simple (one-to-one) lower-case mapping for ASCII, Latin-1, Latin Extended-A and Additional, Greek,
/// Cyrillic, Armenian and full-width Latin; other characters map to themselves.
char32_t lower(char32_t c) {
  const auto even_up = [c](char32_t from, char32_t to) { return c >= from && c <= to && (c % 2) == 0; };
  const auto odd_up = [c](char32_t from, char32_t to) { return c >= from && c <= to && (c % 2) == 1; };
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (even_up(0x100, 0x12F) || even_up(0x132, 0x137) || odd_up(0x139, 0x148) || even_up(0x14A, 0x177) ||
      odd_up(0x179, 0x17E))
    return c + 1;
  if (c == 0x178) return 0xFF;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if ((c >= 0x391 && c <= 0x3A1) || (c >= 0x3A3 && c <= 0x3AB)) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (even_up(0x460, 0x481) || even_up(0x48A, 0x4BF) || even_up(0x4D0, 0x52F)) return c + 1;
  if (odd_up(0x4C1, 0x4CE)) return c + 1;
  if (c >= 0x531 && c <= 0x556) return c + 48;
  if (even_up(0x1E00, 0x1E95) || even_up(0x1EA0, 0x1EFF)) return c + 1;
  if (c >= 0xFF21 && c <= 0xFF3A) return c + 32;
  return c;
}

/// Appends `s` case-folded; bytes that are not UTF-8 are kept as they are.
void append_folded(std::string& out, std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t start = i;
    bool ok = true;
    const char32_t cp = decode_utf8(s, i, ok);
    if (ok) {
      append_utf8(out, lower(cp));
    } else {
      out.append(s.substr(start, i - start));
    }
  }
}

std::string folded(std::string_view s) {
  std::string out;
  append_folded(out, s);
  return out;
}

/// Names that start with "Octopus" (any case) are Octopus's own variables, unless "Octopus:" makes them a
/// path.
bool is_octopus_variable(std::string_view name) {
  constexpr std::string_view prefix = "octopus";
  if (name.size() < prefix.size()) return false;
  for (std::size_t k = 0; k < prefix.size(); ++k) {
    char c = name[k];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[k]) return false;
  }
  return name.size() == prefix.size() || name[prefix.size()] != ':';
}

/// "line L, column C: ..." for a byte offset; columns count characters (code points).
std::string position_message(std::string_view text, std::size_t pos, const std::string& what) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < pos && i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n' || (c == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n'))) {
      ++line;
      column = 1;
    } else if (c != '\r' && (static_cast<unsigned char>(c) & 0xC0U) != 0x80U) {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + what;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace cuttle::runner::deploy::detail

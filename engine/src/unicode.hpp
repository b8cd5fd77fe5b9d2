// Unicode helpers: the only place that calls utf8proc. UTF-8 decoding, .NET character classes
// (char.IsWhiteSpace, char.IsLetterOrDigit on UTF-16 code units) and simple case mapping.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cuttle::engine::detail {

/// Decodes one UTF-8 sequence at `p`; returns its length (>= 1). Invalid bytes decode as U+FFFD, length 1.
int decode_utf8(const char* p, const char* end, char32_t& cp);
/// Appends `cp` as UTF-8.
void append_utf8(std::string& out, char32_t cp);

/// .NET char.IsWhiteSpace (BMP only; astral code points are surrogate pairs in .NET and never whitespace).
bool is_dotnet_whitespace(char32_t cp);
/// .NET char.IsLetterOrDigit (letters Lu Ll Lt Lm Lo, decimal digits Nd), BMP only.
bool is_letter_or_digit(char32_t cp);

/// Byte length of the whitespace character at `p` (0 if none).
inline std::size_t whitespace_length(const char* p, const char* end) {
  const auto c = static_cast<unsigned char>(*p);
  if (c < 0x80) return (c == ' ' || (c >= 0x09 && c <= 0x0D)) ? 1 : 0;
  char32_t cp = 0;
  const int n = decode_utf8(p, end, cp);
  return is_dotnet_whitespace(cp) ? static_cast<std::size_t>(n) : 0;
}

/// .NET String.Trim(): removes leading and trailing whitespace.
std::string_view trim(std::string_view s);
std::string_view trim_start(std::string_view s);
std::string_view trim_end(std::string_view s);

/// ASCII case-insensitive equality (keywords, filter options); other bytes must match exactly.
inline bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto x = static_cast<unsigned char>(a[i]);
    auto y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

/// Appends the case-insensitive key of `s` (simple upper-case mapping per code point; what .NET's
/// OrdinalIgnoreCase compares).
void append_case_key(std::string& out, std::string_view s);
inline std::string case_key(std::string_view s) {
  std::string k;
  append_case_key(k, s);
  return k;
}

/// Simple (one-to-one, invariant) case mappings, as .NET's ToUpperInvariant/ToLowerInvariant.
std::string to_upper(std::string_view s);
std::string to_lower(std::string_view s);

/// Number of UTF-16 code units `s` would take in .NET.
std::size_t utf16_length(std::string_view s);
/// UTF-8 -> UTF-16 (a .NET string); invalid bytes become U+FFFD.
std::u16string to_utf16(std::string_view s);
/// UTF-16 -> UTF-8; unpaired surrogates become U+FFFD (as .NET's Encoding.UTF8.GetBytes).
std::string from_utf16(std::u16string_view s);

}  // namespace cuttle::engine::detail

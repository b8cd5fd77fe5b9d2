// Unicode helpers over utf8proc: decoding, .NET character classes and simple case mapping.
// Tested by tests/engine/evaluator_test.cpp

#include "unicode.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace cuttle::engine::detail {

int decode_utf8(const char* p, const char* end, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(p[0]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  utf8proc_int32_t c = 0;
  const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(p), end - p, &c);
  if (n <= 0) {
    cp = 0xFFFD;
    return 1;
  }
  cp = static_cast<char32_t>(c);
  return static_cast<int>(n);
}

void append_utf8(std::string& out, char32_t cp) {
  utf8proc_uint8_t buf[4];
  const auto n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
}

bool is_dotnet_whitespace(char32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
  if (cp == 0x85 || cp == 0xA0) return true;
  if (cp > 0xFFFF) return false;
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

bool is_letter_or_digit(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
  }
  if (cp > 0xFFFF) return false;  // a surrogate pair in .NET: neither half is a letter
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
      return true;
    default:
      return false;
  }
}

std::string_view trim_start(std::string_view s) {
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    const auto n = whitespace_length(p, end);
    if (n == 0) break;
    p += n;
  }
  return {p, static_cast<std::size_t>(end - p)};
}

std::string_view trim_end(std::string_view s) {
  // ASCII bytes are never part of a multi-byte sequence, so trailing ASCII is trimmed from the back; the
  // common case (an ASCII non-space last byte) returns at once.
  std::size_t size = s.size();
  while (size > 0) {
    const auto c = static_cast<unsigned char>(s[size - 1]);
    if (c >= 0x80) break;
    if (c != ' ' && (c < 0x09 || c > 0x0D)) return s.substr(0, size);
    --size;
  }
  // A non-ASCII last character: walk forward remembering the end of the last non-whitespace character,
  // since UTF-8 is not safely decodable backwards without re-synchronising.
  const char* p = s.data();
  const char* end = p + size;
  const char* last = p;
  while (p < end) {
    const auto n = whitespace_length(p, end);
    if (n != 0) {
      p += n;
      continue;
    }
    char32_t cp = 0;
    p += decode_utf8(p, end, cp);
    last = p;
  }
  return {s.data(), static_cast<std::size_t>(last - s.data())};
}

std::string_view trim(std::string_view s) { return trim_end(trim_start(s)); }

namespace {
template <typename Map>
std::string map_case(std::string_view s, Map map, bool upper) {
  std::string out;
  out.reserve(s.size());
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    const auto c = static_cast<unsigned char>(*p);
    if (c < 0x80) {
      if (upper && c >= 'a' && c <= 'z') {
        out.push_back(static_cast<char>(c - 32));
      } else if (!upper && c >= 'A' && c <= 'Z') {
        out.push_back(static_cast<char>(c + 32));
      } else {
        out.push_back(static_cast<char>(c));
      }
      ++p;
      continue;
    }
    char32_t cp = 0;
    const int n = decode_utf8(p, end, cp);
    if (cp == 0xFFFD && n == 1) {
      out.push_back(*p);  // keep invalid bytes as they are
    } else if (cp > 0xFFFF) {
      out.append(p, static_cast<std::size_t>(n));  // .NET maps UTF-16 units: surrogates unchanged
    } else {
      const auto mapped = static_cast<char32_t>(map(static_cast<utf8proc_int32_t>(cp)));
      // .NET keeps a char whose mapping leaves the BMP (never happens for simple mappings).
      append_utf8(out, mapped <= 0xFFFF ? mapped : cp);
    }
    p += n;
  }
  return out;
}
}  // namespace

// UnicodeData gives U+00DF (sharp s) no simple upper-case mapping, and .NET keeps it; utf8proc maps it to
// U+1E9E (capital sharp s).
static utf8proc_int32_t dotnet_toupper(utf8proc_int32_t cp) { return cp == 0xDF ? cp : utf8proc_toupper(cp); }

std::string to_upper(std::string_view s) { return map_case(s, dotnet_toupper, true); }
std::string to_lower(std::string_view s) { return map_case(s, utf8proc_tolower, false); }

void append_case_key(std::string& out, std::string_view s) {
  // ASCII names (nearly all of them): upper-cased 8 bytes at a time, with no per-byte append. For bytes
  // below 0x80, adding 0x80 - 'a' sets the high bit from 'a' up and adding 0x80 - 'z' - 1 from past 'z';
  // their difference marks exactly a-z, and that bit shifted down to 0x20 is what upper-casing clears.
  if (std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    const std::size_t at = out.size();
    out.append(s);
    char* p = out.data() + at;
    char* const end = out.data() + out.size();
    for (; end - p >= 8; p += 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, p, 8);
      const std::uint64_t lower = ((w + ones * (0x80 - 'a')) & ~(w + ones * (0x80 - 'z' - 1))) & highs;
      w &= ~(lower >> 2);
      std::memcpy(p, &w, 8);
    }
    for (; p < end; ++p) {
      if (*p >= 'a' && *p <= 'z') *p = static_cast<char>(*p - 32);
    }
    return;
  }
  out.reserve(out.size() + s.size());
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    const auto c = static_cast<unsigned char>(*p);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c));
      ++p;
      continue;
    }
    char32_t cp = 0;
    const int n = decode_utf8(p, end, cp);
    if ((cp == 0xFFFD && n == 1) || cp > 0xFFFF) {
      out.append(p, static_cast<std::size_t>(n));
    } else {
      const auto up = static_cast<char32_t>(dotnet_toupper(static_cast<utf8proc_int32_t>(cp)));
      append_utf8(out, up <= 0xFFFF ? up : cp);
    }
    p += n;
  }
}

std::size_t utf16_length(std::string_view s) {
  std::size_t units = 0;
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    char32_t cp = 0;
    p += decode_utf8(p, end, cp);
    units += cp > 0xFFFF ? 2 : 1;
  }
  return units;
}

std::u16string to_utf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    char32_t cp = 0;
    p += decode_utf8(p, end, cp);
    if (cp > 0xFFFF) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

std::string from_utf16(std::u16string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char32_t cp = s[i];
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < s.size() && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (s[i + 1] - 0xDC00);
      ++i;
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
      cp = 0xFFFD;
    }
    append_utf8(out, cp);
  }
  return out;
}

}  // namespace cuttle::engine::detail

// Built-in filters, encoding and escaping family (spec §9.2, §9.3): ToBase64, FromBase64 and the HTML, XML,
// JSON, YAML, Java-properties and URI escapes, byte-for-byte as Octostache produces them.
// Tested by tests/engine/filters_escape_test.cpp and tests/property/filter_props.cpp
//
// .NET strings are UTF-16 while cuttle's are UTF-8, so the filters that work per UTF-16 code unit (the YAML
// double-quote and properties escapes, the base64 encodings) decode the input first; an invalid byte counts
// as U+FFFD, which is what the same text would have become on its way into a .NET string. The filters that
// only rewrite ASCII characters work on the bytes directly and pass everything else through unchanged.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filters/filter_api.hpp"
#include "unicode.hpp"

namespace cuttle::engine::detail {

namespace {

using result_t = std::optional<std::string>;

constexpr std::string_view base64_digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view lower_hex = "0123456789abcdef";
constexpr std::string_view upper_hex = "0123456789ABCDEF";

/// The value of a base64 digit, or -1.
int base64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/// The whitespace Convert.FromBase64String skips: space, tab, CR and LF (not VT or FF).
bool is_base64_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/// The character at `p` for a message: the whole UTF-8 sequence, or a \xNN escape for a control character
/// or an invalid byte.
std::string describe_char(const char* p, const char* end) {
  const auto b = static_cast<unsigned char>(*p);
  if (b >= 0x20 && b < 0x7F) return {'\'', *p, '\''};
  char32_t cp = 0;
  const int n = decode_utf8(p, end, cp);
  if (b >= 0x80 && !(cp == 0xFFFD && n == 1)) return "'" + std::string(p, static_cast<std::size_t>(n)) + "'";
  return std::string("byte 0x") + upper_hex[b >> 4] + upper_hex[b & 0xF];
}

/// Which text encoding a ToBase64/FromBase64 option names; nullopt for an unknown name.
enum class text_encoding : std::uint8_t { utf8, utf16le };
std::optional<text_encoding> parse_text_encoding(const std::vector<std::string>& options) {
  if (options.empty()) return text_encoding::utf8;
  const std::string& name = options[0];
  if (ascii_iequals(name, "utf8") || ascii_iequals(name, "utf-8")) return text_encoding::utf8;
  if (ascii_iequals(name, "unicode")) return text_encoding::utf16le;
  return std::nullopt;
}

/// Length of the UTF-8 sequence at `p` that Unicode calls well-formed (Table 3-7), or 0 if the bytes at `p`
/// do not start one. `maximal` receives the length of the maximal subpart (>= 1), which .NET's decoder
/// replaces with a single U+FFFD.
int well_formed_length(const unsigned char* p, const unsigned char* end, int& maximal) {
  const unsigned char b0 = p[0];
  maximal = 1;
  if (b0 < 0x80) return 1;
  int need = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no UTF-16 surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  for (int i = 1; i <= need; ++i) {
    if (p + i >= end) return 0;
    const unsigned char b = p[i];
    if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF)) return 0;
    maximal = i + 1;
  }
  return need + 1;
}

/// Encoding.UTF8.GetString: every maximal ill-formed subpart becomes one U+FFFD.
std::string utf8_from_bytes(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  std::string out;
  out.reserve(bytes.size());
  while (p < end) {
    int maximal = 1;
    const int n = well_formed_length(p, end, maximal);
    if (n > 0) {
      out.append(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
      p += n;
    } else {
      out += "\xEF\xBF\xBD";
      p += maximal;
    }
  }
  return out;
}

/// Encoding.Unicode.GetString: little-endian code units; unpaired surrogates and an odd trailing byte
/// become U+FFFD.
std::string utf8_from_utf16le(std::string_view bytes) {
  std::u16string units;
  units.reserve(bytes.size() / 2);
  for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
    const auto lo = static_cast<unsigned char>(bytes[i]);
    const auto hi = static_cast<unsigned char>(bytes[i + 1]);
    units.push_back(static_cast<char16_t>(lo | (hi << 8)));
  }
  std::string out = from_utf16(units);
  if (bytes.size() % 2 != 0) out += "\xEF\xBF\xBD";
  return out;
}

std::string encode_base64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                            static_cast<unsigned char>(bytes[i + 2]);
    out += base64_digits[(v >> 18) & 63];
    out += base64_digits[(v >> 12) & 63];
    out += base64_digits[(v >> 6) & 63];
    out += base64_digits[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += base64_digits[(v >> 18) & 63];
    out += base64_digits[(v >> 12) & 63];
    out += rest == 2 ? base64_digits[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

/// Calls `f(cp)` for each code point of `s`; an invalid byte is U+FFFD.
template <typename F>
void for_each_code_point(std::string_view s, F&& f) {
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    char32_t cp = 0;
    p += decode_utf8(p, end, cp);
    f(cp);
  }
}

/// Appends `\uXXXX` (lower-case hex) for each UTF-16 code unit of `cp`.
void append_u_escapes(std::string& out, char32_t cp) {
  auto one = [&out](std::uint32_t unit) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += lower_hex[(unit >> shift) & 0xF];
  };
  if (cp >= 0x10000) {
    const std::uint32_t v = static_cast<std::uint32_t>(cp) - 0x10000;
    one(0xD800 + (v >> 10));
    one(0xDC00 + (v & 0x3FF));
  } else {
    one(static_cast<std::uint32_t>(cp));
  }
}

// ToBase64 [enc]: more than one option, an unknown encoding or no input -> no value.
result_t to_base64_filter(filter_args& a) {
  if (!a.input || a.options.size() > 1) return std::nullopt;
  const auto enc = parse_text_encoding(a.options);
  if (!enc) return std::nullopt;
  return encode_base64(*enc == text_encoding::utf8 ? dotnet_utf8_bytes(*a.input)
                                                   : dotnet_utf16le_bytes(*a.input));
}

// FromBase64 [enc]: decodes before it looks at the encoding, so invalid base64 fails (Octostache throws)
// even when the encoding is unknown; an unknown encoding of valid input is an ordinary "no value".
result_t from_base64_filter(filter_args& a) {
  if (!a.input || a.options.size() > 1) return std::nullopt;
  std::string bytes;
  std::string why;
  if (!decode_base64(*a.input, bytes, why)) {
    a.failure = "input is not valid base64: " + why;
    return std::nullopt;
  }
  const auto enc = parse_text_encoding(a.options);
  if (!enc) return std::nullopt;
  return *enc == text_encoding::utf8 ? utf8_from_bytes(bytes) : utf8_from_utf16le(bytes);
}

/// The shared shape of the escapes without options: no input or any option -> no value.
template <std::string (*Escape)(std::string_view)>
result_t escape_filter(filter_args& a) {
  if (!a.input || !a.options.empty()) return std::nullopt;
  return Escape(*a.input);
}

/// Replaces the ASCII characters that `table` maps (a null entry keeps the character).
std::string replace_ascii(std::string_view s, const std::array<const char*, 128>& table) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80 && table[b] != nullptr) {
      out += table[b];
    } else {
      out += c;
    }
  }
  return out;
}

constexpr std::array<const char*, 128> xml_table = [] {
  std::array<const char*, 128> t{};
  t['&'] = "&amp;";
  t['<'] = "&lt;";
  t['>'] = "&gt;";
  t['"'] = "&quot;";
  t['\''] = "&apos;";
  return t;
}();

constexpr std::array<const char*, 128> html_table = [] {
  std::array<const char*, 128> t = xml_table;
  t['/'] = "&#x2F;";
  return t;
}();

constexpr std::array<const char*, 128> json_table = [] {
  std::array<const char*, 128> t{};
  t['"'] = "\\\"";
  t['\\'] = "\\\\";
  t['\r'] = "\\r";
  t['\n'] = "\\n";
  t['\t'] = "\\t";
  return t;
}();

std::string html_escape(std::string_view s) { return replace_ascii(s, html_table); }
std::string xml_escape(std::string_view s) { return replace_ascii(s, xml_table); }
std::string json_escape(std::string_view s) { return replace_ascii(s, json_table); }

// YamlSingleQuoteEscape: YAML folds a single line break inside a single-quoted scalar into a space and
// n+1 breaks into n, so every run of `(\r?\n)+` gets one extra break in front (CRLF if the run starts with
// CR). A lone CR is not part of a run. Then ' doubles.
std::string yaml_single_quote_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  std::size_t i = 0;
  auto break_at = [&s](std::size_t k) -> std::size_t {  // length of `\r?\n` at k, or 0
    if (k < s.size() && s[k] == '\n') return 1;
    if (k + 1 < s.size() && s[k] == '\r' && s[k + 1] == '\n') return 2;
    return 0;
  };
  while (i < s.size()) {
    std::size_t n = break_at(i);
    if (n == 0) {
      if (s[i] == '\'') out += '\'';
      out += s[i++];
      continue;
    }
    out += n == 2 ? "\r\n" : "\n";
    const std::size_t run_start = i;
    while ((n = break_at(i)) != 0) i += n;
    out.append(s.substr(run_start, i - run_start));
  }
  return out;
}

// YamlDoubleQuoteEscape: printable ASCII stays, five characters get short escapes, every other UTF-16 code
// unit becomes \uXXXX.
std::string yaml_double_quote_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for_each_code_point(s, [&out](char32_t cp) {
    switch (cp) {
      case '\r':
        out += "\\r";
        return;
      case '\n':
        out += "\\n";
        return;
      case '\t':
        out += "\\t";
        return;
      case '\\':
        out += "\\\\";
        return;
      case '"':
        out += "\\\"";
        return;
      default:
        break;
    }
    if (cp >= 0x20 && cp <= 0x7E) {
      out += static_cast<char>(cp);
    } else {
      append_u_escapes(out, cp);
    }
  });
  return out;
}

/// The escapes keys and values share: \ CR LF TAB, code units from 0xFF up as \uXXXX (Octostache's
/// off-by-one escapes U+00FF too), everything below kept as it is.
void append_properties_char(std::string& out, char32_t cp) {
  switch (cp) {
    case '\\':
      out += "\\\\";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      break;
  }
  if (cp >= 0xFF) {
    append_u_escapes(out, cp);
  } else {
    append_utf8(out, cp);
  }
}

// PropertiesKeyEscape: also space, ':' and '=' (they would end the key).
std::string properties_key_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for_each_code_point(s, [&out](char32_t cp) {
    if (cp == ' ' || cp == ':' || cp == '=') {
      out += '\\';
      out += static_cast<char>(cp);
    } else {
      append_properties_char(out, cp);
    }
  });
  return out;
}

// PropertiesValueEscape: only a leading space is escaped (a loader would skip it).
std::string properties_value_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  bool first = true;
  for_each_code_point(s, [&out, &first](char32_t cp) {
    if (first && cp == ' ') {
      out += "\\ ";
    } else {
      append_properties_char(out, cp);
    }
    first = false;
  });
  return out;
}

/// RFC 3986 unreserved characters: what Uri.EscapeDataString keeps.
constexpr bool is_uri_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

/// Unreserved plus the reserved characters: what Uri.EscapeUriString keeps (note: not '%').
constexpr bool is_uri_unreserved_or_reserved(unsigned char c) {
  return is_uri_unreserved(c) ||
         std::string_view(":/?#[]@!$&'()*+,;=").find(static_cast<char>(c)) != std::string_view::npos;
}

/// Percent-encodes (upper-case hex) the UTF-8 bytes of every character `keep` rejects.
template <bool (*Keep)(unsigned char)>
std::string uri_escape_with(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 2);
  std::string bytes;
  for_each_code_point(s, [&out, &bytes](char32_t cp) {
    if (cp < 0x80 && Keep(static_cast<unsigned char>(cp))) {
      out += static_cast<char>(cp);
      return;
    }
    bytes.clear();
    append_utf8(bytes, cp);
    for (const char c : bytes) {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += upper_hex[b >> 4];
      out += upper_hex[b & 0xF];
    }
  });
  return out;
}

std::string uri_escape(std::string_view s) { return uri_escape_with<is_uri_unreserved_or_reserved>(s); }
std::string uri_data_escape(std::string_view s) { return uri_escape_with<is_uri_unreserved>(s); }

constexpr std::array<builtin_entry, 11> escape_table{{
    {"frombase64", from_base64_filter},
    {"htmlescape", escape_filter<html_escape>},
    {"jsonescape", escape_filter<json_escape>},
    {"propertieskeyescape", escape_filter<properties_key_escape>},
    {"propertiesvalueescape", escape_filter<properties_value_escape>},
    {"tobase64", to_base64_filter},
    {"uridataescape", escape_filter<uri_data_escape>},
    {"uriescape", escape_filter<uri_escape>},
    {"xmlescape", escape_filter<xml_escape>},
    {"yamldoublequoteescape", escape_filter<yaml_double_quote_escape>},
    {"yamlsinglequoteescape", escape_filter<yaml_single_quote_escape>},
}};

}  // namespace

std::string dotnet_utf8_bytes(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    int maximal = 1;
    const int n = well_formed_length(p, end, maximal);
    if (n == 0) return from_utf16(to_utf16(s));  // rare: rebuild with U+FFFD for the invalid bytes
    p += n;
  }
  return std::string(s);
}

std::string dotnet_utf16le_bytes(std::string_view s) {
  const std::u16string units = to_utf16(s);
  std::string out;
  out.reserve(units.size() * 2);
  for (const char16_t u : units) {
    out += static_cast<char>(u & 0xFF);
    out += static_cast<char>(u >> 8);
  }
  return out;
}

// Convert.FromBase64String: space, tab, CR and LF are skipped anywhere; what remains must be a multiple of
// 4 digits, with one or two '=' only at the very end. Like .NET, the unused low bits of the last digit
// are not checked ("QR==" decodes as "QQ==").
bool decode_base64(std::string_view text, std::string& out, std::string& why) {
  out.clear();
  out.reserve(text.size() / 4 * 3);
  std::uint32_t acc = 0;
  int digits = 0;         // digits in the current group of 4
  int padding = 0;        // '=' seen so far
  std::size_t count = 0;  // non-whitespace characters
  const char* begin = text.data();
  const char* end = begin + text.size();
  for (const char* p = begin; p < end; ++p) {
    const char c = *p;
    if (is_base64_space(c)) continue;
    ++count;
    if (c == '=') {
      // Padding may only fill the last one or two places of a group.
      if (digits < 2 || digits + padding >= 4) {
        why = "'=' at index " + std::to_string(p - begin) + " is not in the last two places of a group of 4";
        return false;
      }
      ++padding;
      continue;
    }
    const int v = base64_value(static_cast<unsigned char>(c));
    if (v < 0 || padding > 0) {
      why =
          (v < 0 ? describe_char(p, end) + " at index " + std::to_string(p - begin) + " is not a base64 digit"
                 : "a base64 digit follows '=' padding at index " + std::to_string(p - begin));
      return false;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    if (++digits == 4) {
      out += static_cast<char>((acc >> 16) & 0xFF);
      out += static_cast<char>((acc >> 8) & 0xFF);
      out += static_cast<char>(acc & 0xFF);
      acc = 0;
      digits = 0;
    }
  }
  if (count % 4 != 0) {
    why = "length " + std::to_string(count) + (count == text.size() ? "" : " (without whitespace)") +
          " is not a multiple of 4";
    return false;
  }
  // A padded last group: "xx==" gives one byte, "xxx=" two.
  if (padding == 2) {
    out += static_cast<char>((acc >> 4) & 0xFF);
  } else if (padding == 1) {
    out += static_cast<char>((acc >> 10) & 0xFF);
    out += static_cast<char>((acc >> 2) & 0xFF);
  }
  return true;
}

std::span<const builtin_entry> escape_filters() { return escape_table; }

}  // namespace cuttle::engine::detail

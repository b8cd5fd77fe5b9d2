// Service messages: parsing a message body, the wire form, and base64.
// Tested by tests/runner/service_messages_test.cpp and tests/runner/service_message_props.cpp
//
// Octopus reads a body by wrapping it as an XML empty element (`<` body `/>`) and base64-decoding every
// attribute value (calamari-spec §3.1). We accept exactly what that accepts for the names and quoting the
// helpers use: an XML name, then attributes `name="v"` or `name='v'` separated by white space, with white
// space allowed around '='. One bad attribute (a duplicate name, an unquoted or unterminated value, a value
// that is not base64) makes the whole message malformed, as there.

#include "cuttle/runner/service_messages.hpp"

#include <array>
#include <cstdint>

namespace cuttle::runner {
namespace {

bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_name_start(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || u >= 0x80;
}

bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }

/// Reads an XML name at `i`; empty when there is none.
std::string_view read_name(std::string_view body, std::size_t& i) {
  const std::size_t start = i;
  if (i < body.size() && is_name_start(body[i])) {
    ++i;
    while (i < body.size() && is_name_char(body[i])) ++i;
  }
  return body.substr(start, i - start);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    char x = a[k];
    char y = b[k];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> base64_values() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (std::size_t k = 0; k < base64_alphabet.size(); ++k)
    t[static_cast<unsigned char>(base64_alphabet[k])] = static_cast<std::int8_t>(k);
  return t;
}
constexpr auto base64_value = base64_values();

}  // namespace

std::optional<std::string> service_message::get(std::string_view attr) const {
  for (const auto& [key, value] : attributes) {
    if (iequals(key, attr)) return value;
  }
  return std::nullopt;
}

std::string encode_base64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t k = 0;
  for (; k + 3 <= bytes.size(); k += 3) {
    const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(bytes[k])} << 16U) |
                            (std::uint32_t{static_cast<unsigned char>(bytes[k + 1])} << 8U) |
                            std::uint32_t{static_cast<unsigned char>(bytes[k + 2])};
    out += base64_alphabet[(v >> 18U) & 63U];
    out += base64_alphabet[(v >> 12U) & 63U];
    out += base64_alphabet[(v >> 6U) & 63U];
    out += base64_alphabet[v & 63U];
  }
  const std::size_t rest = bytes.size() - k;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t{static_cast<unsigned char>(bytes[k])} << 16U;
    if (rest == 2) v |= std::uint32_t{static_cast<unsigned char>(bytes[k + 1])} << 8U;
    out += base64_alphabet[(v >> 18U) & 63U];
    out += base64_alphabet[(v >> 12U) & 63U];
    out += rest == 2 ? base64_alphabet[(v >> 6U) & 63U] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> decode_base64(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  unsigned bits = 0;
  for (const char c : text) {
    const int v = base64_value[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6U) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFFU);
    }
  }
  return out;
}

body_parse parse_message_body(std::string_view body) {
  body_parse result;
  service_message m;
  std::size_t i = 0;
  const auto name = read_name(body, i);
  if (name.empty()) {
    result.error = "the message has no name";
    return result;
  }
  m.name = name;
  while (true) {
    const std::size_t before = i;
    while (i < body.size() && is_xml_space(body[i])) ++i;
    if (i == body.size()) break;
    if (i == before) {
      result.error = "expected white space before an attribute";
      return result;
    }
    const auto attr = read_name(body, i);
    if (attr.empty()) {
      result.error = "expected an attribute name";
      return result;
    }
    while (i < body.size() && is_xml_space(body[i])) ++i;
    if (i == body.size() || body[i] != '=') {
      result.error = "expected '=' after attribute '" + std::string(attr) + "'";
      return result;
    }
    ++i;
    while (i < body.size() && is_xml_space(body[i])) ++i;
    if (i == body.size() || (body[i] != '\'' && body[i] != '"')) {
      result.error = "the value of attribute '" + std::string(attr) + "' is not quoted";
      return result;
    }
    const char quote = body[i++];
    const auto close = body.find(quote, i);
    if (close == std::string_view::npos) {
      result.error = "the value of attribute '" + std::string(attr) + "' has no closing quote";
      return result;
    }
    for (const auto& [seen, value] : m.attributes) {
      if (seen == attr) {
        result.error = "attribute '" + std::string(attr) + "' appears twice";
        return result;
      }
    }
    auto decoded = decode_base64(body.substr(i, close - i));
    if (!decoded) {
      result.error = "the value of attribute '" + std::string(attr) + "' is not base64";
      return result;
    }
    m.attributes.emplace_back(std::string(attr), std::move(*decoded));
    i = close + 1;
  }
  result.message = std::move(m);
  return result;
}

bool reads_true(std::string_view text) {
  while (!text.empty() && is_xml_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_xml_space(text.back())) text.remove_suffix(1);
  return iequals(text, "true");
}

std::string format_message(const service_message& m) {
  std::string out = "##octopus[" + m.name;
  for (const auto& [name, value] : m.attributes) {
    out += ' ';
    out += name;
    out += "='";
    out += encode_base64(value);
    out += '\'';
  }
  out += ']';
  return out;
}

}  // namespace cuttle::runner

// Built-in filters, hash family (spec §9.6): Md5, Sha1, Sha256, Sha384 and Sha512 through OpenSSL's EVP
// interface, with an optional digest size in bytes and an input encoding, as lower-case hex.
// Tested by tests/engine/filters_hash_test.cpp

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "filters/filter_api.hpp"
#include "unicode.hpp"

namespace cuttle::engine::detail {

namespace {

using result_t = std::optional<std::string>;

/// How the input string becomes the bytes that are hashed.
enum class input_encoding : std::uint8_t { utf8, utf16le, base64 };

/// .NET int.TryParse with NumberStyles.Integer: optional surrounding white space (tab..CR, space), an
/// optional sign, decimal digits, within the range of a 32-bit int.
std::optional<std::int32_t> parse_dotnet_int(std::string_view s) {
  auto is_white = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  while (!s.empty() && is_white(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_white(s.back())) s.remove_suffix(1);
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  std::int64_t value = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
    if (value > std::int64_t{2147483648}) return std::nullopt;
  }
  if (negative) value = -value;
  if (value > std::int64_t{2147483647}) return std::nullopt;
  return static_cast<std::int32_t>(value);
}

/// The input encoding an option names, or nullopt (compared ASCII case-insensitively).
std::optional<input_encoding> parse_input_encoding(std::string_view name) {
  if (ascii_iequals(name, "utf8") || ascii_iequals(name, "utf-8")) return input_encoding::utf8;
  if (ascii_iequals(name, "unicode")) return input_encoding::utf16le;
  if (ascii_iequals(name, "base64")) return input_encoding::base64;
  return std::nullopt;
}

/// The shared body of the five hash filters. Options, in either order: a size in bytes (> 0) and an
/// encoding, each at most once; anything else gives no value, as in Octostache.
result_t hash_filter(filter_args& a, const EVP_MD* (*algorithm)(), std::string_view name) {
  if (!a.input || a.options.size() > 2) return std::nullopt;
  std::optional<std::int32_t> size;
  std::optional<input_encoding> encoding;
  for (const auto& option : a.options) {
    if (const auto n = parse_dotnet_int(option)) {
      if (size || *n <= 0) return std::nullopt;
      size = n;
    } else if (const auto e = parse_input_encoding(option)) {
      if (encoding) return std::nullopt;
      encoding = e;
    } else {
      return std::nullopt;
    }
  }

  std::string bytes;
  switch (encoding.value_or(input_encoding::utf8)) {
    case input_encoding::utf8:
      bytes = dotnet_utf8_bytes(*a.input);
      break;
    case input_encoding::utf16le:
      bytes = dotnet_utf16le_bytes(*a.input);
      break;
    case input_encoding::base64: {
      // Octostache catches the FormatException here and gives no value; the reason still helps the E004.
      std::string why;
      if (!decode_base64(*a.input, bytes, why)) {
        a.failure = "input is not valid base64: " + why;
        return std::nullopt;
      }
      break;
    }
  }

  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, algorithm(), nullptr) != 1) {
    a.failure = "OpenSSL could not compute the " + std::string(name) + " digest";
    return std::nullopt;
  }
  if (size && static_cast<unsigned int>(*size) < length) length = static_cast<unsigned int>(*size);

  constexpr std::string_view hex = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xF];
  }
  return out;
}

result_t md5_filter(filter_args& a) { return hash_filter(a, EVP_md5, "MD5"); }
result_t sha1_filter(filter_args& a) { return hash_filter(a, EVP_sha1, "SHA-1"); }
result_t sha256_filter(filter_args& a) { return hash_filter(a, EVP_sha256, "SHA-256"); }
result_t sha384_filter(filter_args& a) { return hash_filter(a, EVP_sha384, "SHA-384"); }
result_t sha512_filter(filter_args& a) { return hash_filter(a, EVP_sha512, "SHA-512"); }

constexpr std::array<builtin_entry, 5> hash_table{{
    {"md5", md5_filter},
    {"sha1", sha1_filter},
    {"sha256", sha256_filter},
    {"sha384", sha384_filter},
    {"sha512", sha512_filter},
}};

}  // namespace

std::span<const builtin_entry> hash_filters() { return hash_table; }

}  // namespace cuttle::engine::detail

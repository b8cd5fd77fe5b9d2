// Built-in filters, version family (spec §9.7): VersionMajor ... VersionMetadata, parsing the input the way
// Octopus.Versioning's OctopusVersionParser does.
// Tested by tests/engine/filters_version_test.cpp
//
// OctopusVersionParser matches one anchored regular expression with lazy groups:
//
//   version  -> ws* (ws* [vV]? ws* major (ws* "." ws* minor){0,3} ws*)? tail
//   tail     -> sep? prefix (sep counter)? ("+" metadata)? ws* END
//   major... -> digits followed by a word boundary;  sep -> one of . - _ and backslash
//   prefix   -> [A-Za-z0-9]* (shortest);  counter -> [A-Za-z0-9.\-_\\]* (shortest);
//   metadata -> [A-Za-z0-9_\-.\\+]* (shortest)
//
// The backtracking search collapses to one deterministic scan, because every choice the engine could
// revisit either fails the same way or yields the same groups:
// * `\s*` is always greedy in effect: whatever follows it (v, a digit, ".", a separator, letters) is not
//   whitespace, so giving whitespace back only makes the next item fail.
// * A digit run can only end at a word boundary where the run ends (there is no boundary between two
//   digits), so the run is taken whole or the group is skipped. A skipped minor makes patch and revision
//   fail at the same position.
// * Matching fewer numeric groups (or none) never rescues a tail that failed: the numeric text put back
//   in front of the tail ("v1", ".4") only adds letters/digits before a separator, "+", whitespace or the
//   end, which the tail language accepts exactly when it accepts the shorter text.
// * The "shortest" prefix must still be followed by a separator, "+", whitespace or the end, so it is the
//   whole run of letters and digits; the same argument makes the counter and metadata maximal runs.

#include <array>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "filters/filter_api.hpp"
#include "unicode.hpp"

namespace cuttle::engine::detail {
namespace {

using result_t = std::optional<std::string>;

/// The parts of an Octopus version; absent numbers are 0 and absent texts are "".
struct octopus_version {
  std::array<int, 4> numbers{};  // major, minor, patch, revision
  std::string_view prerelease;
  std::string_view prerelease_prefix;
  std::string_view prerelease_counter;
  std::string_view metadata;
};

bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ascii_alnum(char c) { return is_ascii_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
/// The prerelease separators `. - _ \`.
bool is_separator(char c) { return c == '.' || c == '-' || c == '_' || c == '\\'; }
bool is_metadata_char(char c) { return is_ascii_alnum(c) || is_separator(c) || c == '+'; }

/// Skips .NET regex `\s*` (the same set as char.IsWhiteSpace) from `i`.
std::size_t skip_whitespace(std::string_view s, std::size_t i) {
  while (i < s.size()) {
    const std::size_t n = whitespace_length(s.data() + i, s.data() + s.size());
    if (n == 0) break;
    i += n;
  }
  return i;
}

/// True when a digit run ending at `i` ends at a .NET word boundary (`\b`): the next character is not a
/// word character. A non-ASCII character counts as a boundary only when it is whitespace; any other one
/// makes the whole parse fail whichever way `\b` goes, since the tail accepts only ASCII.
bool at_word_boundary(std::string_view s, std::size_t i) {
  if (i >= s.size()) return true;
  const char c = s[i];
  if (static_cast<unsigned char>(c) < 0x80) return !(is_ascii_alnum(c) || c == '_');
  return whitespace_length(s.data() + i, s.data() + s.size()) != 0;
}

/// The digit run starting at `i` when it ends at a word boundary, else an empty view.
std::string_view digits_at(std::string_view s, std::size_t i) {
  std::size_t j = i;
  while (j < s.size() && is_ascii_digit(s[j])) ++j;
  if (j == i || !at_word_boundary(s, j)) return {};
  return s.substr(i, j - i);
}

/// A character for a message: printable ASCII as it is, anything else as its byte value.
std::string describe_char(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c >= 0x20 && c < 0x7F) return std::string("'") + static_cast<char>(c) + "'";
  char32_t cp = 0;
  decode_utf8(s.data() + i, s.data() + s.size(), cp);
  std::string text = "U+";
  constexpr std::string_view hex = "0123456789ABCDEF";
  for (int shift = (cp > 0xFFFF ? 20 : 12); shift >= 0; shift -= 4) text += hex[(cp >> shift) & 0xF];
  return text;
}

/// Parses `text` as OctopusVersionParser.Parse does; on failure returns nullopt and sets `why`.
std::optional<octopus_version> parse_octopus_version(std::string_view text, std::string& why) {
  const std::string quoted = "'" + std::string(text) + "'";
  if (trim(text).empty()) {
    why = quoted + " is not a version: it is empty or whitespace";
    return std::nullopt;
  }
  octopus_version v;
  std::array<std::string_view, 4> number_text{};
  std::size_t i = skip_whitespace(text, 0);

  // Numeric part: [vV]? major (. minor (. patch (. revision)?)?)?, whitespace allowed around numbers.
  {
    std::size_t p = i;
    if (p < text.size() && (text[p] == 'v' || text[p] == 'V')) p = skip_whitespace(text, p + 1);
    if (const auto major = digits_at(text, p); !major.empty()) {
      number_text[0] = major;
      p = skip_whitespace(text, p + major.size());
      for (std::size_t k = 1; k < 4; ++k) {
        if (p >= text.size() || text[p] != '.') break;
        const std::size_t q = skip_whitespace(text, p + 1);
        const auto part = digits_at(text, q);
        if (part.empty()) break;
        number_text[k] = part;
        p = skip_whitespace(text, q + part.size());
      }
      i = p;
    }
  }

  // Tail: sep? prefix (sep counter)? (+ metadata)? whitespace.
  if (i < text.size() && is_separator(text[i])) ++i;
  const std::size_t prerelease_start = i;
  while (i < text.size() && is_ascii_alnum(text[i])) ++i;
  v.prerelease_prefix = text.substr(prerelease_start, i - prerelease_start);
  if (i < text.size() && is_separator(text[i])) {
    const std::size_t counter_start = ++i;
    while (i < text.size() && (is_ascii_alnum(text[i]) || is_separator(text[i]))) ++i;
    v.prerelease_counter = text.substr(counter_start, i - counter_start);
  }
  v.prerelease = text.substr(prerelease_start, i - prerelease_start);
  if (i < text.size() && text[i] == '+') {
    const std::size_t metadata_start = ++i;
    while (i < text.size() && is_metadata_char(text[i])) ++i;
    v.metadata = text.substr(metadata_start, i - metadata_start);
  }
  i = skip_whitespace(text, i);
  if (i != text.size()) {
    why = quoted + " is not a version: unexpected " + describe_char(text, i) + " at offset " +
          std::to_string(i);
    return std::nullopt;
  }

  // int.Parse on each number: an overflow throws in .NET.
  for (std::size_t k = 0; k < 4; ++k) {
    if (number_text[k].empty()) continue;
    const auto* first = number_text[k].data();
    const auto* last = first + number_text[k].size();
    const auto [end, ec] = std::from_chars(first, last, v.numbers[k]);
    if (ec != std::errc() || end != last) {
      why = "version number " + std::string(number_text[k]) + " is too large";
      return std::nullopt;
    }
  }
  return v;
}

/// Shared body of the eight filters: null input gives no value, options are ignored.
template <typename Pick>
result_t with_version(filter_args& a, Pick pick) {
  if (!a.input) return std::nullopt;
  const auto v = parse_octopus_version(*a.input, a.failure);
  if (!v) return std::nullopt;
  return pick(*v);
}

result_t version_major(filter_args& a) {
  return with_version(a, [](const octopus_version& v) { return std::to_string(v.numbers[0]); });
}
result_t version_minor(filter_args& a) {
  return with_version(a, [](const octopus_version& v) { return std::to_string(v.numbers[1]); });
}
result_t version_patch(filter_args& a) {
  return with_version(a, [](const octopus_version& v) { return std::to_string(v.numbers[2]); });
}
result_t version_revision(filter_args& a) {
  return with_version(a, [](const octopus_version& v) { return std::to_string(v.numbers[3]); });
}
result_t version_prerelease(filter_args& a) {
  return with_version(a, [](const octopus_version& v) { return std::string(v.prerelease); });
}
result_t version_prerelease_prefix(filter_args& a) {
  return with_version(a, [](const octopus_version& v) { return std::string(v.prerelease_prefix); });
}
result_t version_prerelease_counter(filter_args& a) {
  return with_version(a, [](const octopus_version& v) { return std::string(v.prerelease_counter); });
}
result_t version_metadata(filter_args& a) {
  return with_version(a, [](const octopus_version& v) { return std::string(v.metadata); });
}

constexpr std::array<builtin_entry, 8> version_table{{
    {"versionmajor", version_major},
    {"versionminor", version_minor},
    {"versionpatch", version_patch},
    {"versionrevision", version_revision},
    {"versionprerelease", version_prerelease},
    {"versionprereleaseprefix", version_prerelease_prefix},
    {"versionprereleasecounter", version_prerelease_counter},
    {"versionmetadata", version_metadata},
}};

}  // namespace

std::span<const builtin_entry> version_filters() { return version_table; }

}  // namespace cuttle::engine::detail

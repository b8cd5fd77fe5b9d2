// Built-in filters, text family (spec §9.5): Replace and Match (.NET regular expressions on PCRE2),
// StartsWith, EndsWith, Contains, Substring, Truncate, Indent, Append and Prepend.
// Tested by tests/engine/filters_text_test.cpp
//
// Regular expressions. Octostache calls .NET's Regex with RegexOptions.None. PCRE2 is configured to read
// patterns the same way where the two dialects overlap: UTF + UCP (so \d, \w, \s and \b are Unicode-aware
// as in .NET), newline = LF only (so `.` excludes only "\n" and `$` matches at the end or before a final
// "\n"), duplicate group names allowed, and PCRE2_ALT_BSUX so `\uFFFF` and `\xFF` mean what they mean in
// .NET. A `\uD83D\uDE00` surrogate-pair escape is rewritten to the character it encodes before compiling.
//
// .NET numbers unnamed groups first and named groups after them (`(?<x>a)(b)`: (b) is $1, x is $2); PCRE
// numbers them left to right. The replacement language ($1, ${name}, $$, $&, $`, $', $+, $_) is expanded
// here, in .NET's numbering and with .NET's rules (ScanDollar): an unknown group is literal text, `$12` is
// group 12 or nothing (no fallback to $1 + "2"), a number beyond int.MaxValue is an error as in .NET.
//
// Iteration follows .NET's Regex.Replace: after an empty match the next attempt starts one character
// later (.NET: one UTF-16 unit; here one code point, so a match never splits a surrogate pair).
//
// Compiled patterns live in a small per-thread cache (templates render on several threads; a thread_local
// cache needs no lock). Every match runs under a PCRE2 match limit: catastrophic backtracking becomes a
// filter failure (E004) instead of a hang, where .NET would run until its timeout.

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "filters/filter_api.hpp"
#include "unicode.hpp"

namespace cuttle::engine::detail {
namespace {

using result_t = std::optional<std::string>;

// ---------------------------------------------------------------------------------------------------
// Small helpers

std::string bool_text(bool b) { return b ? "true" : "false"; }

// .NET int.TryParse(s, NumberStyles.Integer, en-US/invariant): optional white space (TAB..CR, space) on
// both sides, an optional sign, ASCII digits, no overflow. Trailing NULs are accepted as .NET does.
std::optional<int> parse_dotnet_int(std::string_view s) {
  auto is_white = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  std::size_t i = 0;
  while (i < s.size() && is_white(s[i])) ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    negative = s[i] == '-';
    ++i;
  }
  const std::size_t digits_begin = i;
  std::int64_t value = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    value = value * 10 + (s[i] - '0');
    if (value > std::int64_t{2147483648}) return std::nullopt;  // overflow, whatever follows
    ++i;
  }
  if (i == digits_begin) return std::nullopt;
  while (i < s.size() && is_white(s[i])) ++i;
  while (i < s.size() && s[i] == '\0') ++i;
  if (i != s.size()) return std::nullopt;
  if (negative) value = -value;
  if (value > 2147483647) return std::nullopt;
  return static_cast<int>(value);
}

// True when `s` is well-formed UTF-8 (what PCRE2 requires in UTF mode).
bool is_valid_utf8(std::string_view s) {
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    if (static_cast<unsigned char>(*p) < 0x80) {
      ++p;
      continue;
    }
    char32_t cp = 0;
    const int n = decode_utf8(p, end, cp);
    if (n == 1) return false;  // a lead byte >= 0x80 decoding to one byte is an invalid sequence
    p += n;
  }
  return true;
}

// `s` with every invalid byte replaced by U+FFFD (what the .NET string would have held).
std::string repair_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    char32_t cp = 0;
    const int n = decode_utf8(p, end, cp);
    if (n == 1 && static_cast<unsigned char>(*p) >= 0x80) {
      append_utf8(out, 0xFFFD);
    } else {
      out.append(p, static_cast<std::size_t>(n));
    }
    p += n;
  }
  return out;
}

// `s` as valid UTF-8: a view of `s` itself when it already is, otherwise of the repaired copy in `store`.
std::string_view valid_utf8(std::string_view s, std::string& store) {
  if (is_valid_utf8(s)) return s;
  store = repair_utf8(s);
  return store;
}

// UTF-16 slice [start, start + length) of `s`, as UTF-8. A cut through a surrogate pair leaves a lone
// surrogate, which becomes U+FFFD as in .NET's UTF-8 encoder. The caller keeps the range inside `s`.
std::string utf16_slice(std::string_view s, std::size_t start, std::size_t length) {
  const std::u16string units = to_utf16(s);
  return from_utf16(std::u16string_view(units).substr(start, length));
}

// ---------------------------------------------------------------------------------------------------
// Compiled .NET regular expressions

struct code_deleter {
  void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};
struct match_data_deleter {
  void operator()(pcre2_match_data* d) const { pcre2_match_data_free(d); }
};
struct match_context_deleter {
  void operator()(pcre2_match_context* c) const { pcre2_match_context_free(c); }
};
struct compile_context_deleter {
  void operator()(pcre2_compile_context* c) const { pcre2_compile_context_free(c); }
};

/// Backtracking steps one pcre2_match call may take before it gives up (PCRE2's own default is 10M).
constexpr std::uint32_t regex_match_limit = 5'000'000;
/// Nesting depth of backtracking (interpreter only; bounds heap use together with PCRE2's heap limit).
constexpr std::uint32_t regex_depth_limit = 250'000;
/// Compiled patterns kept per thread.
constexpr std::size_t regex_cache_size = 32;

std::string pcre2_message(int code) {
  std::array<PCRE2_UCHAR, 256> buf{};
  const int n = pcre2_get_error_message(code, buf.data(), buf.size());
  if (n < 0) return "error " + std::to_string(code);
  return std::string(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n));
}

struct compiled_regex {
  std::unique_ptr<pcre2_code, code_deleter> code;
  /// Why the pattern did not compile (code is null then).
  std::string error;
  /// .NET group n (0 = the whole match) -> the PCRE2 groups holding it (several for a duplicated name).
  std::vector<std::vector<std::uint32_t>> groups;
  /// Group names and their .NET numbers.
  std::vector<std::pair<std::string, int>> names;

  int group_number(std::string_view name) const {
    for (const auto& [n, number] : names) {
      if (n == name) return number;
    }
    return -1;
  }
};

// True when `s[i..i+6)` is `\uXXXX` and sets `unit`.
bool read_u_escape(std::string_view s, std::size_t i, std::uint32_t& unit) {
  if (i + 6 > s.size() || s[i] != '\\' || s[i + 1] != 'u') return false;
  const char* first = s.data() + i + 2;
  const auto [ptr, ec] = std::from_chars(first, first + 4, unit, 16);
  return ec == std::errc() && ptr == first + 4;
}

// .NET writes astral characters as two \u escapes (a surrogate pair); PCRE2 in UTF mode rejects
// surrogate code points, so such a pair becomes the character itself.
std::string rewrite_surrogate_escapes(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size());
  std::size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] != '\\' || i + 1 >= pattern.size()) {
      out += pattern[i++];
      continue;
    }
    std::uint32_t high = 0;
    std::uint32_t low = 0;
    if (read_u_escape(pattern, i, high) && high >= 0xD800 && high <= 0xDBFF &&
        read_u_escape(pattern, i + 6, low) && low >= 0xDC00 && low <= 0xDFFF) {
      append_utf8(out, static_cast<char32_t>(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)));
      i += 12;
      continue;
    }
    out.append(pattern.substr(i, 2));  // any other escape, kept whole so `\\u` stays literal
    i += 2;
  }
  return out;
}

std::shared_ptr<const compiled_regex> compile_regex(std::string_view raw_pattern) {
  auto re = std::make_shared<compiled_regex>();
  std::string repaired;
  std::string_view pattern = valid_utf8(raw_pattern, repaired);
  std::string rewritten;
  if (pattern.find("\\u") != std::string_view::npos) {
    rewritten = rewrite_surrogate_escapes(pattern);
    pattern = rewritten;
  }

  const std::unique_ptr<pcre2_compile_context, compile_context_deleter> ccontext(
      pcre2_compile_context_create(nullptr));
  if (!ccontext) {
    re->error = "out of memory compiling the regular expression";
    return re;
  }
  pcre2_set_newline(ccontext.get(), PCRE2_NEWLINE_LF);
  pcre2_set_bsr(ccontext.get(), PCRE2_BSR_UNICODE);

  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  re->code.reset(pcre2_compile(
      reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
      PCRE2_UTF | PCRE2_UCP | PCRE2_DUPNAMES | PCRE2_ALT_BSUX | PCRE2_NEVER_BACKSLASH_C | PCRE2_NO_UTF_CHECK,
      &error_code, &error_offset, ccontext.get()));
  if (!re->code) {
    // The offset counts UTF-16 code units, like an index into the .NET pattern string.
    const std::size_t units =
        utf16_length(pattern.substr(0, std::min<std::size_t>(error_offset, pattern.size())));
    re->error =
        "invalid regular expression at offset " + std::to_string(units) + ": " + pcre2_message(error_code);
    return re;
  }
  // JIT is an optimisation only: when it is unavailable the interpreter runs the same pattern.
  pcre2_jit_compile(re->code.get(), PCRE2_JIT_COMPLETE);

  // .NET numbering: unnamed groups in order, then each distinct name in order of first appearance.
  std::uint32_t capture_count = 0;
  std::uint32_t name_count = 0;
  std::uint32_t entry_size = 0;
  PCRE2_SPTR table = nullptr;
  pcre2_pattern_info(re->code.get(), PCRE2_INFO_CAPTURECOUNT, &capture_count);
  pcre2_pattern_info(re->code.get(), PCRE2_INFO_NAMECOUNT, &name_count);
  pcre2_pattern_info(re->code.get(), PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
  pcre2_pattern_info(re->code.get(), PCRE2_INFO_NAMETABLE, &table);
  std::vector<std::string> group_name(capture_count + 1);
  for (std::uint32_t k = 0; k < name_count; ++k) {
    PCRE2_SPTR entry = table + static_cast<std::size_t>(k) * entry_size;
    const std::uint32_t group = (static_cast<std::uint32_t>(entry[0]) << 8) | entry[1];
    if (group <= capture_count) group_name[group] = reinterpret_cast<const char*>(entry + 2);
  }
  re->groups.push_back({0});
  for (std::uint32_t g = 1; g <= capture_count; ++g) {
    if (group_name[g].empty()) re->groups.push_back({g});
  }
  for (std::uint32_t g = 1; g <= capture_count; ++g) {
    if (group_name[g].empty()) continue;
    const int known = re->group_number(group_name[g]);
    if (known >= 0) {
      re->groups[static_cast<std::size_t>(known)].push_back(g);
    } else {
      re->names.emplace_back(group_name[g], static_cast<int>(re->groups.size()));
      re->groups.push_back({g});
    }
  }
  return re;
}

// The compiled form of `pattern`, from this thread's cache when it was used recently.
std::shared_ptr<const compiled_regex> find_regex(std::string_view pattern) {
  struct entry {
    std::string pattern;
    std::shared_ptr<const compiled_regex> re;
    std::uint64_t last_used = 0;
  };
  thread_local std::vector<entry> cache;
  thread_local std::uint64_t tick = 0;
  ++tick;
  for (auto& e : cache) {
    if (e.pattern == pattern) {
      e.last_used = tick;
      return e.re;
    }
  }
  auto re = compile_regex(pattern);
  if (cache.size() < regex_cache_size) {
    cache.push_back({std::string(pattern), re, tick});
  } else {
    auto oldest = std::min_element(cache.begin(), cache.end(),
                                   [](const entry& a, const entry& b) { return a.last_used < b.last_used; });
    *oldest = {std::string(pattern), re, tick};
  }
  return re;
}

pcre2_match_context* match_context() {
  thread_local const std::unique_ptr<pcre2_match_context, match_context_deleter> context = [] {
    std::unique_ptr<pcre2_match_context, match_context_deleter> c(pcre2_match_context_create(nullptr));
    if (c) {
      pcre2_set_match_limit(c.get(), regex_match_limit);
      pcre2_set_depth_limit(c.get(), regex_depth_limit);
    }
    return c;
  }();
  return context.get();
}

// One regular expression applied to one (valid UTF-8) subject.
class regex_run {
 public:
  regex_run(const compiled_regex& re, std::string_view subject)
      : re_(re), subject_(subject), data_(pcre2_match_data_create_from_pattern(re.code.get(), nullptr)) {}

  /// Searches from byte `start`: 1 = found, 0 = no match, -1 = failed (`failure` says why).
  int find(std::size_t start, std::string& failure) {
    if (!data_) {
      failure = "out of memory running the regular expression";
      return -1;
    }
    int rc = match(start, 0);
    // The JIT's own stack is small; a pattern that outgrows it runs again in the interpreter.
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) rc = match(start, PCRE2_NO_JIT);
    if (rc >= 0) return 1;
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT) {
      failure = "regular expression gave up after too much backtracking (match limit " +
                std::to_string(regex_match_limit) + " steps); simplify the pattern";
    } else {
      failure = "regular expression match failed: " + pcre2_message(rc);
    }
    return -1;
  }

  std::size_t match_begin() const { return ovector()[0]; }
  std::size_t match_end() const { return ovector()[1]; }

  /// The text of .NET group `n` in the last match ("" when it did not take part).
  std::string_view group(std::size_t n) const {
    const PCRE2_SIZE* ov = ovector();
    std::string_view best;
    for (const std::uint32_t g : re_.groups[n]) {
      // For a duplicated name .NET keeps the last capture; the highest-numbered group that took part is
      // the closest PCRE2 can tell.
      if (ov[2 * g] != PCRE2_UNSET) best = subject_.substr(ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
    }
    return best;
  }

 private:
  int match(std::size_t start, std::uint32_t options) {
    return pcre2_match(re_.code.get(), reinterpret_cast<PCRE2_SPTR>(subject_.data()), subject_.size(), start,
                       options | PCRE2_NO_UTF_CHECK, data_.get(), match_context());
  }
  const PCRE2_SIZE* ovector() const { return pcre2_get_ovector_pointer(data_.get()); }

  const compiled_regex& re_;
  std::string_view subject_;
  std::unique_ptr<pcre2_match_data, match_data_deleter> data_;
};

// One piece of a parsed .NET replacement pattern.
struct replacement_piece {
  static constexpr int literal = -1;
  static constexpr int left_portion = -2;   // $`
  static constexpr int right_portion = -3;  // $'
  static constexpr int last_group = -4;     // $+
  static constexpr int whole_string = -5;   // $_
  int ref = literal;                        // >= 0: a .NET group number
  std::string text;                         // for literal pieces
};

// A .NET word character at `p` for a group name (ASCII letters, digits and `_`; other letters and digits):
// its byte length, or 0.
std::size_t word_char_length(const char* p, const char* end) {
  const auto c = static_cast<unsigned char>(*p);
  if (c < 0x80) {
    return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') ? 1 : 0;
  }
  char32_t cp = 0;
  const int n = decode_utf8(p, end, cp);
  return is_letter_or_digit(cp) ? static_cast<std::size_t>(n) : 0;
}

// Parses `rep` as .NET's RegexParser.ParseReplacement does (only `$` is special). False (with
// `failure`) when a group number overflows int, which .NET rejects with an ArgumentException.
bool parse_replacement(std::string_view rep, const compiled_regex& re, std::vector<replacement_piece>& pieces,
                       std::string& failure) {
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) pieces.push_back({replacement_piece::literal, std::move(literal)});
    literal.clear();
  };
  auto add_ref = [&](int ref) {
    flush();
    pieces.push_back({ref, {}});
  };
  const std::size_t n = rep.size();
  std::size_t i = 0;
  while (i < n) {
    if (rep[i] != '$') {
      literal += rep[i++];
      continue;
    }
    const std::size_t after = i + 1;  // .NET's backpos: where a literal `$` resumes
    if (after == n) {
      literal += '$';
      i = after;
      continue;
    }
    std::size_t pos = after;
    const bool angled = rep[pos] == '{' && n - pos > 1;
    if (angled) ++pos;
    const char ch = rep[pos];
    if (ch >= '0' && ch <= '9') {
      std::int64_t number = 0;
      while (pos < n && rep[pos] >= '0' && rep[pos] <= '9') {
        number = number * 10 + (rep[pos] - '0');
        if (number > 2147483647) {
          failure = "invalid replacement pattern: capture group numbers must be less than or equal to " +
                    std::to_string(2147483647);
          return false;
        }
        ++pos;
      }
      bool closed = !angled;
      if (angled && pos < n) closed = rep[pos++] == '}';
      if (closed && static_cast<std::size_t>(number) < re.groups.size()) {
        add_ref(static_cast<int>(number));
        i = pos;
        continue;
      }
    } else if (angled && word_char_length(rep.data() + pos, rep.data() + n) > 0) {
      const std::size_t name_begin = pos;
      while (pos < n) {
        const std::size_t len = word_char_length(rep.data() + pos, rep.data() + n);
        if (len == 0) break;
        pos += len;
      }
      const std::string_view name = rep.substr(name_begin, pos - name_begin);
      if (pos < n && rep[pos] == '}') {
        const int number = re.group_number(name);
        if (number >= 0) {
          add_ref(number);
          i = pos + 1;
          continue;
        }
      }
    } else if (!angled) {
      int ref = replacement_piece::literal;
      switch (ch) {
        case '$':
          literal += '$';
          i = pos + 1;
          continue;
        case '&':
          ref = 0;
          break;
        case '`':
          ref = replacement_piece::left_portion;
          break;
        case '\'':
          ref = replacement_piece::right_portion;
          break;
        case '+':
          ref = replacement_piece::last_group;
          break;
        case '_':
          ref = replacement_piece::whole_string;
          break;
        default:
          break;
      }
      if (ref != replacement_piece::literal) {
        add_ref(ref);
        i = pos + 1;
        continue;
      }
    }
    literal += '$';  // not a substitution: the `$` is literal and scanning resumes after it
    i = after;
  }
  flush();
  return true;
}

// Appends the expansion of `pieces` for the current match of `run`.
void expand_replacement(const std::vector<replacement_piece>& pieces, const regex_run& run,
                        std::string_view subject, std::size_t group_count, std::string& out) {
  for (const auto& p : pieces) {
    switch (p.ref) {
      case replacement_piece::literal:
        out += p.text;
        break;
      case replacement_piece::left_portion:
        out += subject.substr(0, run.match_begin());
        break;
      case replacement_piece::right_portion:
        out += subject.substr(run.match_end());
        break;
      case replacement_piece::last_group:
        out += run.group(group_count - 1);
        break;
      case replacement_piece::whole_string:
        out += subject;
        break;
      default:
        out += run.group(static_cast<std::size_t>(p.ref));
        break;
    }
  }
}

// Byte length of the character at `pos` in valid UTF-8 `s` (1 at the end, which callers never pass).
std::size_t char_length_at(std::string_view s, std::size_t pos) {
  char32_t cp = 0;
  return static_cast<std::size_t>(decode_utf8(s.data() + pos, s.data() + s.size(), cp));
}

// ---------------------------------------------------------------------------------------------------
// The filters

// Replace pattern [replacement]: .NET Regex.Replace over every match; a missing replacement is "".
// Options beyond the second are ignored.
result_t replace_filter(filter_args& a) {
  if (!a.input || a.options.empty()) return std::nullopt;
  const auto re = find_regex(a.options[0]);
  if (!re->code) {
    a.failure = re->error;
    return std::nullopt;
  }
  std::string rep_store;
  const std::string_view rep =
      valid_utf8(a.options.size() > 1 ? std::string_view(a.options[1]) : "", rep_store);
  std::vector<replacement_piece> pieces;
  if (!parse_replacement(rep, *re, pieces, a.failure)) return std::nullopt;

  std::string subject_store;
  const std::string_view subject = valid_utf8(*a.input, subject_store);
  regex_run run(*re, subject);
  std::string out;
  std::size_t copied = 0;  // subject bytes already in `out`
  std::size_t start = 0;   // where the next match attempt begins
  while (start <= subject.size()) {
    const int found = run.find(start, a.failure);
    if (found < 0) return std::nullopt;
    if (found == 0) break;
    out.append(subject.substr(copied, run.match_begin() - copied));
    expand_replacement(pieces, run, subject, re->groups.size(), out);
    copied = run.match_end();
    if (run.match_end() > run.match_begin()) {
      start = run.match_end();
    } else if (run.match_end() < subject.size()) {
      start = run.match_end() + char_length_at(subject, run.match_end());
    } else {
      break;
    }
  }
  out.append(subject.substr(copied));
  return out;
}

// Match pattern: "true" when the .NET regex matches anywhere in the input.
result_t match_filter(filter_args& a) {
  if (!a.input || a.options.size() != 1) return std::nullopt;
  const auto re = find_regex(a.options[0]);
  if (!re->code) {
    a.failure = re->error;
    return std::nullopt;
  }
  std::string subject_store;
  regex_run run(*re, valid_utf8(*a.input, subject_store));
  const int found = run.find(0, a.failure);
  if (found < 0) return std::nullopt;
  return bool_text(found == 1);
}

// StartsWith / EndsWith / Contains s: ordinal comparisons (byte-wise on UTF-8 gives the same answer).
result_t starts_with_filter(filter_args& a) {
  if (!a.input || a.options.size() != 1) return std::nullopt;
  return bool_text(std::string_view(*a.input).starts_with(a.options[0]));
}
result_t ends_with_filter(filter_args& a) {
  if (!a.input || a.options.size() != 1) return std::nullopt;
  return bool_text(std::string_view(*a.input).ends_with(a.options[0]));
}
result_t contains_filter(filter_args& a) {
  if (!a.input || a.options.size() != 1) return std::nullopt;
  return bool_text(a.input->find(a.options[0]) != std::string::npos);
}

// Substring [start] length: UTF-16 indexes; a start past the end gives no value, a long length is clamped.
result_t substring_filter(filter_args& a) {
  if (!a.input || a.options.empty() || a.options.size() > 2) return std::nullopt;
  std::array<int, 2> values{};
  for (std::size_t k = 0; k < a.options.size(); ++k) {
    const auto v = parse_dotnet_int(a.options[k]);
    if (!v || *v < 0) return std::nullopt;
    values[k] = *v;
  }
  const std::size_t start = a.options.size() == 1 ? 0 : static_cast<std::size_t>(values[0]);
  const std::size_t length = static_cast<std::size_t>(a.options.size() == 1 ? values[0] : values[1]);
  const std::size_t total = utf16_length(*a.input);
  if (start > total) return std::nullopt;
  if (start == 0 && length >= total) return *a.input;
  return utf16_slice(*a.input, start, std::min(length, total - start));
}

// Truncate n [suffix]: the first n UTF-16 units plus the suffix ("..." by default) when the input is longer.
result_t truncate_filter(filter_args& a) {
  if (!a.input || a.options.empty()) return std::nullopt;
  const auto n = parse_dotnet_int(a.options[0]);
  if (!n || *n < 0) return std::nullopt;
  const auto length = static_cast<std::size_t>(*n);
  if (length >= utf16_length(*a.input)) return *a.input;
  std::string out = utf16_slice(*a.input, 0, length);
  out += a.options.size() > 1 ? std::string_view(a.options[1]) : std::string_view("...");
  return out;
}

// A run of 1-3 ASCII digits that fits in a byte (.NET byte.TryParse), as a count of spaces.
std::optional<std::string> byte_spaces(std::string_view digits) {
  int v = 0;
  for (const char c : digits) v = v * 10 + (c - '0');
  if (v > 255) return std::nullopt;
  return std::string(static_cast<std::size_t>(v), ' ');
}

bool is_indent_number(std::string_view s) {
  return !s.empty() && s.size() <= 3 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// One Indent option in the form ^((\d{1,3})?/)?(\d{1,3})$ (where `$` also allows a final "\n") with
// every number <= 255: sets the indents and returns true. Only ASCII digits can pass .NET's byte.TryParse,
// so matching ASCII digits here gives the same results as .NET's Unicode \d.
bool parse_indent_sizes(std::string_view option, std::string& initial, std::string& subsequent) {
  if (!option.empty() && option.back() == '\n') option.remove_suffix(1);
  const std::size_t slash = option.find('/');
  if (slash == std::string_view::npos) {
    if (!is_indent_number(option)) return false;
    auto spaces = byte_spaces(option);
    if (!spaces) return false;
    initial = subsequent = *spaces;
    return true;
  }
  const std::string_view first = option.substr(0, slash);
  const std::string_view second = option.substr(slash + 1);
  if (!is_indent_number(second) || (!first.empty() && !is_indent_number(first))) return false;
  auto second_spaces = byte_spaces(second);
  auto first_spaces = first.empty() ? std::optional<std::string>(std::string()) : byte_spaces(first);
  if (!first_spaces || !second_spaces) return false;
  initial = std::move(*first_spaces);
  subsequent = std::move(*second_spaces);
  return true;
}

// Indent [spec | initial subsequent]: `initial` before the text and `subsequent` after every "\n".
result_t indent_filter(filter_args& a) {
  if (!a.input) return std::nullopt;
  if (a.input->empty()) return std::string();
  std::string initial;
  std::string subsequent;
  switch (a.options.size()) {
    case 0:
      initial = subsequent = "    ";
      break;
    case 1:
      if (!parse_indent_sizes(a.options[0], initial, subsequent)) initial = subsequent = a.options[0];
      break;
    case 2:
      initial = a.options[0];
      subsequent = a.options[1];
      break;
    default:
      return std::nullopt;
  }
  std::string out = initial;
  out.reserve(a.input->size() + initial.size() + 16);
  for (const char c : *a.input) {
    out += c;
    if (c == '\n') out += subsequent;
  }
  return out;
}

std::string concat_options(const std::vector<std::string>& options) {
  std::string s;
  for (const auto& o : options) s += o;
  return s;
}

// Append s... / Prepend s...: no options -> no value; a missing input counts as "".
result_t append_filter(filter_args& a) {
  if (a.options.empty()) return std::nullopt;
  return a.input.value_or(std::string()) + concat_options(a.options);
}
result_t prepend_filter(filter_args& a) {
  if (a.options.empty()) return std::nullopt;
  return concat_options(a.options) + a.input.value_or(std::string());
}

constexpr std::array<builtin_entry, 10> text_table{{
    {"append", append_filter},
    {"contains", contains_filter},
    {"endswith", ends_with_filter},
    {"indent", indent_filter},
    {"match", match_filter},
    {"prepend", prepend_filter},
    {"replace", replace_filter},
    {"startswith", starts_with_filter},
    {"substring", substring_filter},
    {"truncate", truncate_filter},
}};

}  // namespace

std::span<const builtin_entry> text_filters() { return text_table; }

}  // namespace cuttle::engine::detail

// Built-in filters, date family (spec §9.4, §12): NowDate, NowDateUtc, AddHours, AddDays and Format, with
// en-US emulations of .NET's number and date parsing and of its numeric and date format strings.
// Tested by tests/engine/filters_date_test.cpp
//
// Design. Everything Octostache delegates to the .NET base library is rebuilt here, in sections:
//   A. the en-US culture data (names, designators, symbols, patterns);
//   B. the calendar: .NET counts time in 100-ns ticks since 0001-01-01 (int64), and a DateTime carries a
//      kind (unspecified, UTC, local) while a DateTimeOffset carries a wall-clock time plus an offset;
//   C. the clock and local zone, read from render_options::clock (injectable) or the system;
//   D. numeric formatting over a "number buffer" (sign, significant digits, decimal-point position) exactly
//      as .NET's Number.Formatting does it: rounding, the standard formats C D E F G N P R X and the custom
//      formats with sections;
//   E. the numeric types Format can parse: decimal (96-bit coefficient and a scale, so "23.40" keeps its
//      trailing zero), int and double (formatted with .NET Core 3.0+ semantics: shortest round-trip for
//      G and R, exact decimal expansion for the others, both taken from the C library, which rounds right);
//   F. date parsing: the lenient shapes DateTime.TryParse accepts for en-US (a deliberate subset: see
//      docs/filters.md, "Date and number formatting filters");
//   G. date formatting: standard and custom date format strings;
//   H. the filters themselves.
// A .NET FormatException becomes "no value" with a failure text; nothing in this file throws.

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "filters/filter_api.hpp"
#include "unicode.hpp"

namespace cuttle::engine::detail {
namespace {

// ---------------------------------------------------------------------------------------------------------
// A. en-US culture data
// ---------------------------------------------------------------------------------------------------------

constexpr std::array<std::string_view, 12> month_names{"January",   "February", "March",    "April",
                                                       "May",       "June",     "July",     "August",
                                                       "September", "October",  "November", "December"};
constexpr std::array<std::string_view, 12> month_abbreviations{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> day_names{"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                    "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 7> day_abbreviations{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view am_designator = "AM";
constexpr std::string_view pm_designator = "PM";
constexpr std::string_view era_name = "AD";
constexpr std::string_view currency_symbol = "$";
constexpr std::string_view positive_infinity_symbol = "\u221E";
constexpr std::string_view negative_infinity_symbol = "-\u221E";
constexpr std::string_view nan_symbol = "NaN";
constexpr std::string_view per_mille_symbol = "\u2030";

// The patterns behind the one-letter standard date formats (en-US, .NET 5+ with ICU; the space before
// AM/PM is an ordinary space).
constexpr std::u32string_view short_date_pattern = U"M/d/yyyy";
constexpr std::u32string_view long_date_pattern = U"dddd, MMMM d, yyyy";
constexpr std::u32string_view short_time_pattern = U"h:mm tt";
constexpr std::u32string_view long_time_pattern = U"h:mm:ss tt";
constexpr std::u32string_view full_pattern = U"dddd, MMMM d, yyyy h:mm:ss tt";
constexpr std::u32string_view round_trip_pattern = U"yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK";
constexpr std::u32string_view rfc1123_pattern = U"ddd, dd MMM yyyy HH':'mm':'ss 'GMT'";
constexpr std::u32string_view sortable_pattern = U"yyyy'-'MM'-'dd'T'HH':'mm':'ss";
constexpr std::u32string_view universal_sortable_pattern = U"yyyy'-'MM'-'dd HH':'mm':'ss'Z'";

/// Format precisions above this are refused (.NET accepts up to 999,999,999 and builds the whole string).
constexpr int max_precision = 100'000;

bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }
bool is_ascii_letter(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
/// .NET's number-parsing whitespace (Number.IsWhite): space and TAB..CR.
bool is_number_white(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/// A format string as code points, so the per-character rules of .NET (which walks UTF-16) apply.
std::u32string to_code_points(std::string_view s) {
  std::u32string out;
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    char32_t cp = 0;
    p += decode_utf8(p, end, cp);
    out.push_back(cp);
  }
  return out;
}

std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// ---------------------------------------------------------------------------------------------------------
// B. Calendar: ticks, civil dates, kinds
// ---------------------------------------------------------------------------------------------------------

constexpr std::int64_t ticks_per_second = 10'000'000;
constexpr std::int64_t ticks_per_minute = 60 * ticks_per_second;
constexpr std::int64_t ticks_per_hour = 60 * ticks_per_minute;
constexpr std::int64_t ticks_per_day = 24 * ticks_per_hour;
/// 9999-12-31T23:59:59.9999999, DateTime.MaxValue.
constexpr std::int64_t max_ticks = 3'155'378'975'999'999'999;
/// 1970-01-01T00:00:00.
constexpr std::int64_t unix_epoch_ticks = 621'355'968'000'000'000;
/// DateTimeOffset accepts offsets up to 14 hours either way.
constexpr std::int64_t max_offset = 14 * ticks_per_hour;

constexpr std::array<int, 13> days_before_month{0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365};

bool in_range(std::int64_t ticks) { return ticks >= 0 && ticks <= max_ticks; }
bool is_leap(int year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }
int days_in_month(int year, int month) {
  return days_before_month[month] - days_before_month[month - 1] + (month == 2 && is_leap(year) ? 1 : 0);
}

/// Days from 0001-01-01 to `year`-`month`-`day` (proleptic Gregorian, all fields valid).
std::int64_t days_from_civil(int year, int month, int day) {
  const std::int64_t y = year - 1;
  return y * 365 + y / 4 - y / 100 + y / 400 + days_before_month[month - 1] +
         (month > 2 && is_leap(year) ? 1 : 0) + day - 1;
}

struct civil_date {
  int year;
  int month;
  int day;
};

/// The date of a tick count in [0, max_ticks].
civil_date civil_from_ticks(std::int64_t ticks) {
  std::int64_t n = ticks / ticks_per_day;
  const std::int64_t y400 = n / 146097;
  n -= y400 * 146097;
  std::int64_t y100 = n / 36524;
  if (y100 == 4) y100 = 3;
  n -= y100 * 36524;
  const std::int64_t y4 = n / 1461;
  n -= y4 * 1461;
  std::int64_t y1 = n / 365;
  if (y1 == 4) y1 = 3;
  n -= y1 * 365;
  const int year = static_cast<int>(y400 * 400 + y100 * 100 + y4 * 4 + y1 + 1);
  const int leap = is_leap(year) ? 1 : 0;
  int month = 1;
  while (month < 12 && n >= days_before_month[month] + (month >= 2 ? leap : 0)) ++month;
  const int day = static_cast<int>(n - days_before_month[month - 1] - (month > 2 ? leap : 0)) + 1;
  return {year, month, day};
}

/// 0 = Sunday (.NET DayOfWeek); 0001-01-01 was a Monday.
int day_of_week(std::int64_t ticks) { return static_cast<int>((ticks / ticks_per_day + 1) % 7); }

/// DateTimeKind.
enum class date_kind { unspecified, utc, local };

/// A DateTime (offset empty) or a DateTimeOffset (ticks = the wall-clock time, offset set).
struct date_value {
  std::int64_t ticks = 0;
  date_kind kind = date_kind::unspecified;
  std::optional<std::int64_t> offset;
};

// ---------------------------------------------------------------------------------------------------------
// C. Clock and local time zone
// ---------------------------------------------------------------------------------------------------------

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/// The injected clock and zone, or the system's.
class zone {
 public:
  explicit zone(const clock_options& clock) : clock_(clock) {}

  /// UTC now in ticks.
  std::int64_t now_utc() const {
    using tick = std::chrono::duration<std::int64_t, std::ratio<1, 10'000'000>>;
    const auto tp = clock_.now ? clock_.now() : std::chrono::system_clock::now();
    const std::int64_t since_epoch = std::chrono::floor<tick>(tp.time_since_epoch()).count();
    return std::clamp<std::int64_t>(since_epoch + unix_epoch_ticks, 0, max_ticks);
  }

  /// Local wall-clock now in ticks.
  std::int64_t now_local() const {
    const std::int64_t utc = now_utc();
    return std::clamp<std::int64_t>(utc + offset_at_utc(utc), 0, max_ticks);
  }

  /// The local offset (ticks) at the UTC instant `utc_ticks`.
  std::int64_t offset_at_utc(std::int64_t utc_ticks) const {
    const std::int64_t seconds = floor_div(utc_ticks - unix_epoch_ticks, ticks_per_second);
    std::int64_t offset_seconds = 0;
    if (clock_.local_offset) {
      // system_clock counts nanoseconds in 64 bits: about +-292 years around 1970.
      constexpr std::int64_t limit = 9'000'000'000;
      const auto tp = std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(
              std::chrono::seconds(std::clamp(seconds, -limit, limit))));
      offset_seconds = clock_.local_offset(tp).count();
    } else {
      const auto t = static_cast<std::time_t>(seconds);
      std::tm tm{};
      if (localtime_r(&t, &tm) != nullptr) offset_seconds = tm.tm_gmtoff;
    }
    constexpr std::int64_t day_seconds = 86'400;
    return std::clamp(offset_seconds, -day_seconds, day_seconds) * ticks_per_second;
  }

  /// The local offset that applies to the local wall-clock time `local_ticks` (fixed point of
  /// offset(wall - offset(wall)), so it is right on both sides of a transition).
  std::int64_t offset_for_local(std::int64_t local_ticks) const {
    const std::int64_t first = offset_at_utc(local_ticks);
    const std::int64_t second = offset_at_utc(local_ticks - first);
    if (second == first) return second;
    return offset_at_utc(local_ticks - second);
  }

 private:
  const clock_options& clock_;
};

// ---------------------------------------------------------------------------------------------------------
// D. Numeric formatting (.NET Number.Formatting over a number buffer)
// ---------------------------------------------------------------------------------------------------------

enum class number_kind { integer, decimal, floating_point };

/// The value 0.d1d2d3... x 10^scale: `digits` has no leading zeros (empty for zero).
struct number_buffer {
  std::string digits;
  int scale = 0;
  bool negative = false;
  number_kind kind = number_kind::decimal;
};

/// Keeps `pos` significant digits, rounding half away from zero unless the digits are already correctly
/// rounded (doubles); drops trailing zeros; zero loses its scale (and its sign unless it is a double).
void round_number(number_buffer& n, int pos, bool correctly_rounded) {
  const int count = static_cast<int>(n.digits.size());
  int i = 0;
  while (i < pos && i < count) ++i;
  if (i == pos && i < count && !correctly_rounded && n.digits[static_cast<std::size_t>(i)] >= '5') {
    while (i > 0 && n.digits[static_cast<std::size_t>(i - 1)] == '9') --i;
    if (i > 0) {
      ++n.digits[static_cast<std::size_t>(i - 1)];
    } else {
      ++n.scale;
      n.digits[0] = '1';
      i = 1;
    }
  } else {
    while (i > 0 && n.digits[static_cast<std::size_t>(i - 1)] == '0') --i;
  }
  if (i == 0) {
    if (n.kind != number_kind::floating_point) n.negative = false;
    n.scale = 0;
  }
  n.digits.resize(static_cast<std::size_t>(i));
}

/// Reads significant digits in order, then zeros.
struct digit_reader {
  const std::string& digits;
  std::size_t next = 0;
  bool more() const { return next < digits.size(); }
  char take() { return next < digits.size() ? digits[next++] : '0'; }
};

void append_exponent(std::string& out, int value, char exp_char, int min_digits, bool positive_sign) {
  out += exp_char;
  if (value < 0) {
    out += '-';
    value = -value;
  } else if (positive_sign) {
    out += '+';
  }
  const std::string text = std::to_string(value);
  if (static_cast<int>(text.size()) < min_digits)
    out.append(static_cast<std::size_t>(min_digits) - text.size(), '0');
  out += text;
}

void format_general(std::string& out, const number_buffer& n, int max_digits, char exp_char,
                    bool suppress_scientific) {
  int dig_pos = n.scale;
  bool scientific = false;
  if (!suppress_scientific && (dig_pos > max_digits || dig_pos < -3)) {
    dig_pos = 1;
    scientific = true;
  }
  digit_reader r{n.digits};
  if (dig_pos > 0) {
    do {
      out += r.take();
    } while (--dig_pos > 0);
  } else {
    out += '0';
  }
  if (r.more() || dig_pos < 0) {
    out += '.';
    for (; dig_pos < 0; ++dig_pos) out += '0';
    while (r.more()) out += r.take();
  }
  if (scientific) append_exponent(out, n.scale - 1, exp_char, 2, true);
}

/// Integer part (grouped by three when `grouped`), then `decimals` fraction digits.
void format_fixed(std::string& out, const number_buffer& n, int decimals, bool grouped) {
  int dig_pos = n.scale;
  digit_reader r{n.digits};
  if (dig_pos > 0) {
    std::string integer;
    for (int k = 0; k < dig_pos; ++k) integer += r.take();
    if (grouped) {
      std::string with_groups;
      const std::size_t len = integer.size();
      for (std::size_t k = 0; k < len; ++k) {
        if (k > 0 && (len - k) % 3 == 0) with_groups += ',';
        with_groups += integer[k];
      }
      integer = std::move(with_groups);
    }
    out += integer;
  } else {
    out += '0';
  }
  if (decimals > 0) {
    out += '.';
    if (dig_pos < 0) {
      const int zeros = std::min(-dig_pos, decimals);
      out.append(static_cast<std::size_t>(zeros), '0');
      decimals -= zeros;
    }
    for (; decimals > 0; --decimals) out += r.take();
  }
}

void format_scientific(std::string& out, const number_buffer& n, int max_digits, char exp_char) {
  digit_reader r{n.digits};
  out += r.take();
  if (max_digits != 1) out += '.';
  while (--max_digits > 0) out += r.take();
  const int e = n.digits.empty() ? 0 : n.scale - 1;
  append_exponent(out, e, exp_char, 3, true);
}

/// NumberToString: a standard format letter with its precision (-1 when absent). False: FormatException.
bool number_to_string(std::string& out, number_buffer& n, char32_t format, int precision) {
  const bool correctly_rounded = n.kind == number_kind::floating_point;
  switch (format) {
    case 'C':
    case 'c':
      if (precision < 0) precision = 2;
      round_number(n, n.scale + precision, correctly_rounded);
      if (n.negative) out += '-';  // en-US CurrencyNegativePattern 1: -$n
      out += currency_symbol;
      format_fixed(out, n, precision, true);
      return true;
    case 'F':
    case 'f':
    case 'N':
    case 'n':
      if (precision < 0) precision = 2;
      round_number(n, n.scale + precision, correctly_rounded);
      if (n.negative) out += '-';
      format_fixed(out, n, precision, format == 'N' || format == 'n');
      return true;
    case 'E':
    case 'e':
      if (precision < 0) precision = 6;
      ++precision;
      round_number(n, precision, correctly_rounded);
      if (n.negative) out += '-';
      format_scientific(out, n, precision, static_cast<char>(format));
      return true;
    case 'R':
    case 'r':
      if (n.kind != number_kind::floating_point) return false;
      format = format == 'R' ? 'G' : 'g';
      [[fallthrough]];
    case 'G':
    case 'g': {
      bool no_rounding = false;
      if (precision < 1) {
        if (n.kind == number_kind::decimal && precision == -1) {
          // Decimal's default G keeps every digit, trailing zeros included, and never goes scientific.
          no_rounding = true;
        } else {
          precision = static_cast<int>(n.digits.size());
        }
      }
      if (!no_rounding) round_number(n, precision, correctly_rounded);
      if (n.negative && !(no_rounding && n.digits.empty())) out += '-';
      format_general(out, n, precision, format == 'G' ? 'E' : 'e', no_rounding);
      return true;
    }
    case 'P':
    case 'p':
      if (precision < 0) precision = 2;
      n.scale += 2;
      round_number(n, n.scale + precision, correctly_rounded);
      if (n.negative) out += '-';  // en-US PercentNegativePattern 1: -n%
      format_fixed(out, n, precision, true);
      out += '%';
      return true;
    default:
      return false;
  }
}

/// Where section `section` (0 positive, 1 negative, 2 zero) of a custom format starts; 0 when absent.
std::size_t find_section(const std::u32string& f, int section) {
  if (section == 0) return 0;
  std::size_t src = 0;
  while (true) {
    if (src >= f.size()) return 0;
    const char32_t ch = f[src++];
    switch (ch) {
      case '\'':
      case '"':
        while (src < f.size() && f[src] != 0 && f[src++] != ch) {
        }
        break;
      case '\\':
        if (src < f.size() && f[src] != 0) ++src;
        break;
      case ';':
        if (--section != 0) break;
        if (src < f.size() && f[src] != 0 && f[src] != ';') return src;
        return 0;
      case 0:
        return 0;
      default:
        break;
    }
  }
}

/// NumberToStringFormat: a custom numeric format (`0 # . , % ‰ E+0 E-0 ; \x 'lit' "lit"`).
std::string format_custom_number(number_buffer& n, const std::u32string& f) {
  const std::size_t len = f.size();
  std::size_t section = find_section(f, n.digits.empty() ? 2 : (n.negative ? 1 : 0));
  int digit_count = 0;
  int decimal_pos = -1;
  int first_digit = 0x7FFFFFFF;
  int last_digit = 0;
  bool scientific = false;
  bool thousand_seps = false;
  while (true) {
    digit_count = 0;
    decimal_pos = -1;
    first_digit = 0x7FFFFFFF;
    last_digit = 0;
    scientific = false;
    int thousand_pos = -1;
    int thousand_count = 0;
    thousand_seps = false;
    int scale_adjust = 0;
    std::size_t src = section;
    while (src < len) {
      const char32_t ch = f[src++];
      if (ch == 0 || ch == ';') break;
      switch (ch) {
        case '#':
          ++digit_count;
          break;
        case '0':
          if (first_digit == 0x7FFFFFFF) first_digit = digit_count;
          ++digit_count;
          last_digit = digit_count;
          break;
        case '.':
          if (decimal_pos < 0) decimal_pos = digit_count;
          break;
        case ',':
          if (digit_count > 0 && decimal_pos < 0) {
            if (thousand_pos >= 0) {
              if (thousand_pos == digit_count) {
                ++thousand_count;
                break;
              }
              thousand_seps = true;
            }
            thousand_pos = digit_count;
            thousand_count = 1;
          }
          break;
        case '%':
          scale_adjust += 2;
          break;
        case 0x2030:
          scale_adjust += 3;
          break;
        case '\'':
        case '"':
          while (src < len && f[src] != 0 && f[src++] != ch) {
          }
          break;
        case '\\':
          if (src < len && f[src] != 0) ++src;
          break;
        case 'E':
        case 'e':
          if ((src < len && f[src] == '0') ||
              (src + 1 < len && (f[src] == '+' || f[src] == '-') && f[src + 1] == '0')) {
            while (++src < len && f[src] == '0') {
            }
            scientific = true;
          }
          break;
        default:
          break;
      }
    }
    if (decimal_pos < 0) decimal_pos = digit_count;
    if (thousand_pos >= 0) {
      if (thousand_pos == decimal_pos) {
        scale_adjust -= thousand_count * 3;  // "0,," divides by a thousand per trailing comma
      } else {
        thousand_seps = true;
      }
    }
    if (!n.digits.empty()) {
      n.scale += scale_adjust;
      const int pos = scientific ? digit_count : n.scale + digit_count - decimal_pos;
      round_number(n, pos, false);
      if (n.digits.empty()) {
        const std::size_t zero_section = find_section(f, 2);
        if (zero_section != section) {
          section = zero_section;
          continue;
        }
      }
    } else {
      if (n.kind != number_kind::floating_point) n.negative = false;
      n.scale = 0;
    }
    break;
  }

  first_digit = first_digit < decimal_pos ? decimal_pos - first_digit : 0;
  last_digit = last_digit > decimal_pos ? decimal_pos - last_digit : 0;
  int dig_pos = decimal_pos;
  int adjust = 0;
  if (!scientific) {
    dig_pos = std::max(n.scale, decimal_pos);
    adjust = n.scale - decimal_pos;
  }

  // Positions (counted from the decimal point) after which a group separator goes.
  std::vector<int> separator_positions;
  if (thousand_seps) {
    const int total_digits = dig_pos + std::min(adjust, 0);
    const int num_digits = std::max(first_digit, total_digits);
    for (int group_total = 3; num_digits > group_total; group_total += 3)
      separator_positions.push_back(group_total);
  }
  int separator_index = static_cast<int>(separator_positions.size()) - 1;

  std::string out;
  if (n.negative && section == 0 && n.scale != 0) out += '-';
  bool decimal_written = false;
  std::size_t cur = 0;
  const auto emit_separator = [&] {
    if (thousand_seps && dig_pos > 1 && separator_index >= 0 &&
        dig_pos == separator_positions[static_cast<std::size_t>(separator_index)] + 1) {
      out += ',';
      --separator_index;
    }
  };
  std::size_t src = section;
  while (src < len) {
    const char32_t ch = f[src++];
    if (ch == 0 || ch == ';') break;
    if (adjust > 0 && (ch == '#' || ch == '0' || ch == '.')) {
      // More integer digits than placeholders: the first placeholder prints the excess.
      while (adjust > 0) {
        out += cur < n.digits.size() ? n.digits[cur++] : '0';
        emit_separator();
        --dig_pos;
        --adjust;
      }
    }
    switch (ch) {
      case '#':
      case '0': {
        char c = 0;
        if (adjust < 0) {
          ++adjust;
          c = dig_pos <= first_digit ? '0' : 0;
        } else {
          c = cur < n.digits.size() ? n.digits[cur++] : (dig_pos > last_digit ? '0' : 0);
        }
        if (c != 0) {
          out += c;
          emit_separator();
        }
        --dig_pos;
        break;
      }
      case '.':
        if (dig_pos != 0 || decimal_written) break;
        if (last_digit < 0 || (decimal_pos < digit_count && cur < n.digits.size())) {
          out += '.';
          decimal_written = true;
        }
        break;
      case 0x2030:
        out += per_mille_symbol;
        break;
      case '%':
        out += '%';
        break;
      case ',':
        break;
      case '\'':
      case '"':
        while (src < len && f[src] != 0 && f[src] != ch) append_utf8(out, f[src++]);
        if (src < len && f[src] != 0) ++src;
        break;
      case '\\':
        if (src < len && f[src] != 0) append_utf8(out, f[src++]);
        break;
      case 'E':
      case 'e': {
        if (!scientific) {
          append_utf8(out, ch);
          if (src < len) {
            if (f[src] == '+' || f[src] == '-') append_utf8(out, f[src++]);
            while (src < len && f[src] == '0') append_utf8(out, f[src++]);
          }
          break;
        }
        bool positive_sign = false;
        int min_digits = 0;
        if (src < len && f[src] == '0') {
          ++min_digits;
        } else if (src + 1 < len && f[src] == '+' && f[src + 1] == '0') {
          positive_sign = true;
        } else if (!(src + 1 < len && f[src] == '-' && f[src + 1] == '0')) {
          append_utf8(out, ch);
          break;
        }
        while (++src < len && f[src] == '0') ++min_digits;
        min_digits = std::min(min_digits, 10);
        const int exp = n.digits.empty() ? 0 : n.scale - decimal_pos;
        append_exponent(out, exp, static_cast<char>(ch), min_digits, positive_sign);
        scientific = false;
        break;
      }
      default:
        append_utf8(out, ch);
        break;
    }
  }
  if (n.negative && section == 0 && n.scale == 0 && !out.empty()) out.insert(0, "-");
  return out;
}

/// A parsed numeric format string: a standard letter with precision (-1 when absent), or custom (0).
struct format_spec {
  char32_t letter = 0;
  int precision = -1;
  bool precision_too_large = false;
};

/// ParseFormatSpecifier: a letter followed only by digits is standard; "" is G; anything else is custom.
format_spec parse_format_spec(const std::u32string& f) {
  if (!f.empty() && is_ascii_letter(f[0])) {
    if (f.size() == 1) return {f[0], -1, false};
    std::size_t i = 1;
    int n = 0;
    bool too_large = false;
    while (i < f.size() && is_digit(f[i])) {
      if (n >= 100'000'000) {
        too_large = true;
        break;
      }
      n = n * 10 + static_cast<int>(f[i] - '0');
      ++i;
    }
    if (too_large) return {f[0], -1, true};
    if (i >= f.size() || f[i] == 0) return {f[0], n, n > max_precision};
  }
  return {(f.empty() || f[0] == 0) ? char32_t{'G'} : char32_t{0}, -1, false};
}

/// The outcome of formatting: the text, or the FormatException's reason.
struct format_result {
  std::optional<std::string> text;
  std::string error;
};

format_result format_error(std::string reason) { return {std::nullopt, std::move(reason)}; }

std::string precision_error(std::string_view format) {
  return "format " + quote(format) + " has a precision above cuttle's limit of " +
         std::to_string(max_precision);
}

// ---------------------------------------------------------------------------------------------------------
// E. Numeric values: parsing (NumberStyles) and formatting per type
// ---------------------------------------------------------------------------------------------------------

// NumberStyles flags.
constexpr unsigned allow_leading_white = 1;
constexpr unsigned allow_trailing_white = 2;
constexpr unsigned allow_leading_sign = 4;
constexpr unsigned allow_trailing_sign = 8;
constexpr unsigned allow_decimal_point = 16;
constexpr unsigned allow_thousands = 32;
constexpr unsigned allow_exponent = 64;
constexpr unsigned style_number = allow_leading_white | allow_trailing_white | allow_leading_sign |
                                  allow_trailing_sign | allow_decimal_point | allow_thousands;
constexpr unsigned style_float =
    allow_leading_white | allow_trailing_white | allow_leading_sign | allow_decimal_point | allow_exponent;

/// ParseNumber's result: 0.digits x 10^scale (digits without leading zeros, trailing zeros kept).
struct parsed_number {
  bool negative = false;
  std::string digits;
  std::int64_t scale = 0;
  bool nonzero_tail = false;  // non-zero digits beyond `max_digits` were dropped
};

/// .NET's ParseNumber for en-US (sign "-"/"+", decimal ".", group ","), keeping at most `max_digits`.
std::optional<parsed_number> parse_number(std::string_view s, unsigned styles, std::size_t max_digits) {
  parsed_number n;
  std::size_t p = 0;
  const auto at = [&](std::size_t i) { return i < s.size() ? s[i] : '\0'; };
  bool has_sign = false;
  while (true) {
    const char ch = at(p);
    if (is_number_white(ch) && (styles & allow_leading_white) != 0 && !has_sign) {
      ++p;  // en-US (NumberNegativePattern 1) allows no whitespace between the sign and the digits
    } else if ((styles & allow_leading_sign) != 0 && !has_sign && (ch == '+' || ch == '-')) {
      has_sign = true;
      n.negative = ch == '-';
      ++p;
    } else {
      break;
    }
  }
  bool has_digits = false;
  bool nonzero = false;
  bool has_decimal = false;
  while (true) {
    const char ch = at(p);
    if (is_digit(static_cast<unsigned char>(ch))) {
      has_digits = true;
      if (ch != '0' || nonzero) {
        if (n.digits.size() < max_digits) {
          n.digits += ch;
        } else if (ch != '0') {
          n.nonzero_tail = true;
        }
        if (!has_decimal) ++n.scale;
        nonzero = true;
      } else if (has_decimal) {
        --n.scale;
      }
    } else if ((styles & allow_decimal_point) != 0 && !has_decimal && ch == '.') {
      has_decimal = true;
    } else if ((styles & allow_thousands) != 0 && has_digits && !has_decimal && ch == ',') {
      // group separators are accepted anywhere in the integer part after the first digit
    } else {
      break;
    }
    ++p;
  }
  if (!has_digits) return std::nullopt;
  if ((styles & allow_exponent) != 0 && (at(p) == 'e' || at(p) == 'E')) {
    std::size_t q = p + 1;
    bool negative_exponent = false;
    if (at(q) == '+') {
      ++q;
    } else if (at(q) == '-') {
      negative_exponent = true;
      ++q;
    }
    if (is_digit(static_cast<unsigned char>(at(q)))) {
      std::int64_t e = 0;
      while (is_digit(static_cast<unsigned char>(at(q)))) {
        if (e < 1'000'000'000) e = e * 10 + (at(q) - '0');
        ++q;
      }
      n.scale += negative_exponent ? -e : e;
      p = q;
    }
  }
  while (true) {
    const char ch = at(p);
    if (is_number_white(ch) && (styles & allow_trailing_white) != 0) {
      ++p;
    } else if ((styles & allow_trailing_sign) != 0 && !has_sign && (ch == '+' || ch == '-')) {
      has_sign = true;
      n.negative = ch == '-';
      ++p;
    } else {
      break;
    }
  }
  for (; p < s.size(); ++p) {
    if (s[p] != '\0') return std::nullopt;  // only trailing NULs may follow
  }
  return n;
}

__extension__ using uint128 = unsigned __int128;

/// System.Decimal: coefficient < 2^96, scale 0..28.
struct decimal_value {
  uint128 coefficient = 0;
  int scale = 0;
  bool negative = false;
};

/// decimal.TryParse(s) in en-US: NumberStyles.Number, 29 significant digits, banker's rounding of the
/// 30th digit as .NET's TryNumberToDecimal does; too large -> nullopt.
std::optional<decimal_value> parse_decimal(std::string_view s) {
  const auto parsed = parse_number(s, style_number, 30);
  if (!parsed) return std::nullopt;
  const parsed_number& n = *parsed;
  if (n.digits.empty()) {
    return decimal_value{0, static_cast<int>(std::clamp<std::int64_t>(-n.scale, 0, 28)), n.negative};
  }
  std::int64_t e = n.scale;
  if (e > 29) return std::nullopt;
  const uint128 max96 = (uint128{1} << 96) - 1;
  uint128 c = 0;
  std::size_t i = 0;
  while (e > 0 || (i < n.digits.size() && e > -28)) {
    const unsigned d = i < n.digits.size() ? static_cast<unsigned>(n.digits[i] - '0') : 0U;
    if (c > (max96 - d) / 10) break;
    c = c * 10 + d;
    --e;
    if (i < n.digits.size()) ++i;
  }
  if (i < n.digits.size() && n.digits[i] >= '5') {
    bool round_up = true;
    if (n.digits[i] == '5' && (c & 1) == 0) {
      bool zero_tail = !n.nonzero_tail;
      for (std::size_t j = i + 1; j < n.digits.size() && zero_tail; ++j) zero_tail = n.digits[j] == '0';
      round_up = !zero_tail;
    }
    if (round_up && ++c > max96) {
      c = max96 / 10 + 1;
      ++e;
    }
  }
  if (e > 0) return std::nullopt;
  if (e <= -29) return decimal_value{0, 28, n.negative};
  return decimal_value{c, static_cast<int>(-e), n.negative};
}

/// int.TryParse(s): NumberStyles.Integer, 32-bit.
std::optional<std::int32_t> parse_int32(std::string_view s) {
  std::size_t p = 0;
  while (p < s.size() && is_number_white(s[p])) ++p;
  bool negative = false;
  if (p < s.size() && (s[p] == '+' || s[p] == '-')) negative = s[p++] == '-';
  if (p >= s.size() || !is_digit(static_cast<unsigned char>(s[p]))) return std::nullopt;
  std::int64_t value = 0;
  for (; p < s.size() && is_digit(static_cast<unsigned char>(s[p])); ++p) {
    value = value * 10 + (s[p] - '0');
    if (value > 2'147'483'648LL) return std::nullopt;
  }
  while (p < s.size() && is_number_white(s[p])) ++p;
  for (; p < s.size(); ++p) {
    if (s[p] != '\0') return std::nullopt;
  }
  if (negative) value = -value;
  if (value > 2'147'483'647LL) return std::nullopt;
  return static_cast<std::int32_t>(value);
}

/// double.TryParse(s, styles) in en-US: correctly rounded; overflow gives infinity (.NET Core 3.0+); the
/// symbols ∞, -∞ and NaN (any case, optional sign) are accepted.
std::optional<double> parse_double(std::string_view s, unsigned styles) {
  const auto parsed = parse_number(s, styles, std::string::npos);
  if (!parsed) {
    std::string_view t = s;
    while (!t.empty() && is_number_white(t.front())) t.remove_prefix(1);
    while (!t.empty() && (is_number_white(t.back()) || t.back() == '\0')) t.remove_suffix(1);
    bool negative = false;
    if (!t.empty() && (t.front() == '+' || t.front() == '-')) {
      negative = t.front() == '-';
      t.remove_prefix(1);
    }
    if (t == positive_infinity_symbol) return negative ? -HUGE_VAL : HUGE_VAL;
    if (ascii_iequals(t, nan_symbol)) return std::nan("");
    return std::nullopt;
  }
  double value = 0;
  if (!parsed->digits.empty()) {
    if (parsed->scale > 400) {
      value = HUGE_VAL;
    } else if (parsed->scale < -400) {
      value = 0;
    } else {
      const std::string text = "0." + parsed->digits + "e" + std::to_string(parsed->scale);
      const auto res = std::from_chars(text.data(), text.data() + text.size(), value);
      if (res.ec == std::errc::result_out_of_range) value = parsed->scale > 0 ? HUGE_VAL : 0.0;
    }
  }
  return parsed->negative ? -value : value;
}

std::string uint128_to_string(uint128 v) {
  std::string s;
  while (v > 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return s;
}

format_result format_decimal(const decimal_value& d, std::string_view format) {
  const std::u32string f = to_code_points(format);
  const format_spec spec = parse_format_spec(f);
  if (spec.precision_too_large) return format_error(precision_error(format));
  number_buffer n;
  n.kind = number_kind::decimal;
  n.negative = d.negative;
  n.digits = uint128_to_string(d.coefficient);  // trailing zeros of the coefficient stay
  n.scale = static_cast<int>(n.digits.size()) - d.scale;
  if (spec.letter == 0) return {format_custom_number(n, f), {}};
  std::string out;
  if (!number_to_string(out, n, spec.letter, spec.precision)) {
    return format_error(quote(format) + " is not a valid format for a decimal");
  }
  return {out, {}};
}

format_result format_int32(std::int32_t value, std::string_view format) {
  const std::u32string f = to_code_points(format);
  const format_spec spec = parse_format_spec(f);
  if (spec.precision_too_large) return format_error(precision_error(format));
  const char32_t upper = spec.letter & ~char32_t{0x20};
  const std::int64_t wide = value;
  if (spec.letter != 0 && (upper == 'G' ? spec.precision < 1 : upper == 'D')) {
    std::string digits = std::to_string(wide < 0 ? -wide : wide);
    if (static_cast<int>(digits.size()) < spec.precision)
      digits.insert(0, static_cast<std::size_t>(spec.precision) - digits.size(), '0');
    return {(wide < 0 ? "-" : "") + digits, {}};
  }
  if (spec.letter != 0 && upper == 'X') {
    const char* hex = spec.letter == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    auto bits = static_cast<std::uint32_t>(value);
    std::string digits;
    do {
      digits.insert(digits.begin(), hex[bits & 0xF]);
      bits >>= 4;
    } while (bits != 0);
    if (static_cast<int>(digits.size()) < spec.precision)
      digits.insert(0, static_cast<std::size_t>(spec.precision) - digits.size(), '0');
    return {digits, {}};
  }
  number_buffer n;
  n.kind = number_kind::integer;
  n.negative = wide < 0;
  if (wide != 0) n.digits = std::to_string(wide < 0 ? -wide : wide);
  n.scale = static_cast<int>(n.digits.size());
  if (spec.letter == 0) return {format_custom_number(n, f), {}};
  std::string out;
  if (!number_to_string(out, n, spec.letter, spec.precision)) {
    return format_error(quote(format) + " is not a valid format for an int");
  }
  return {out, {}};
}

/// Fills `n` from "d.ddde±x" (printf %e or to_chars scientific output of a positive value).
void digits_from_scientific(number_buffer& n, std::string_view text) {
  const auto e_pos = text.find('e');
  for (char c : text.substr(0, e_pos)) {
    if (c != '.') n.digits += c;
  }
  int exponent = 0;
  std::string_view exp_text = text.substr(e_pos + 1);
  if (!exp_text.empty() && exp_text.front() == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
  n.scale = exponent + 1;
  const auto first = n.digits.find_first_not_of('0');
  if (first == std::string::npos) {
    n.digits.clear();
    n.scale = 0;
  }
}

/// Fills `n` from "ddd.ddd" (printf %f output of a positive value).
void digits_from_fixed(number_buffer& n, std::string_view text) {
  const auto dot = text.find('.');
  const std::size_t int_len = dot == std::string_view::npos ? text.size() : dot;
  std::string all(text.substr(0, int_len));
  if (dot != std::string_view::npos) all += text.substr(dot + 1);
  const auto first = all.find_first_not_of('0');
  if (first == std::string::npos) {
    n.digits.clear();
    n.scale = 0;
    return;
  }
  n.digits = all.substr(first);
  n.scale = static_cast<int>(int_len) - static_cast<int>(first);
}

std::string printf_double(const char* spec, int precision, double value) {
  const int size = std::snprintf(nullptr, 0, spec, precision, value);
  if (size <= 0) return {};
  std::vector<char> buf(static_cast<std::size_t>(size) + 1);
  std::snprintf(buf.data(), buf.size(), spec, precision, value);
  return std::string(buf.data(), static_cast<std::size_t>(size));
}

/// double.ToString(format) with .NET Core 3.0+ semantics.
format_result format_double(double value, std::string_view format) {
  if (std::isnan(value)) return {std::string(nan_symbol), {}};
  if (std::isinf(value)) {
    return {std::string(value > 0 ? positive_infinity_symbol : negative_infinity_symbol), {}};
  }
  const std::u32string f = to_code_points(format);
  const format_spec spec = parse_format_spec(f);
  if (spec.precision_too_large) return format_error(precision_error(format));
  int precision = spec.letter == 0 ? 15 : spec.precision;
  int max_digits = precision;
  bool significant = true;
  switch (spec.letter) {
    case 0:
      break;
    case 'C':
    case 'c':
    case 'F':
    case 'f':
    case 'N':
    case 'n':
      if (precision == -1) precision = 2;
      significant = false;
      break;
    case 'E':
    case 'e':
      if (precision == -1) precision = 6;
      ++precision;
      break;
    case 'G':
    case 'g':
      if (precision == 0) precision = -1;
      break;
    case 'P':
    case 'p':
      if (precision == -1) precision = 2;
      precision += 2;
      significant = false;
      break;
    case 'R':
    case 'r':
      precision = -1;
      break;
    default:
      return format_error(quote(format) + " is not a valid format for a double");
  }
  number_buffer n;
  n.kind = number_kind::floating_point;
  n.negative = std::signbit(value);
  const double magnitude = std::fabs(value);
  if (magnitude != 0) {
    if (!significant) {
      digits_from_fixed(n, printf_double("%.*f", precision, magnitude));
    } else if (precision == -1) {
      char buf[64];
      const auto res = std::to_chars(buf, buf + sizeof buf, magnitude, std::chars_format::scientific);
      digits_from_scientific(n, std::string_view(buf, static_cast<std::size_t>(res.ptr - buf)));
    } else {
      digits_from_scientific(n, printf_double("%.*e", precision - 1, magnitude));
    }
  }
  if (spec.letter == 0) return {format_custom_number(n, f), {}};
  if (precision == -1) max_digits = std::max(static_cast<int>(n.digits.size()), 15);
  std::string out;
  number_to_string(out, n, spec.letter, max_digits);
  return {out, {}};
}

// ---------------------------------------------------------------------------------------------------------
// F. Date parsing (DateTime.TryParse / DateTimeOffset.TryParse leniency, en-US)
// ---------------------------------------------------------------------------------------------------------
//
// Accepted, case-insensitively, with any whitespace between parts and around the text:
//   [day name [,]] date [T|space time] [zone]      time [date] [zone]
// date:  yyyy-M-d | yyyy/M/d | yyyy.M.d | M/d/yyyy | M-d-yyyy | M.d.yyyy (2-digit years: 00-49 -> 20xx,
//        50-99 -> 19xx) | M/d | yyyy/M | d MMM[M] [yyyy] | MMM[M] d[,] [yyyy] | MMM[M] yyyy | yyyy MMM[M] d
//        (month names full or abbreviated; '-', '/', '.' or ',' may separate the parts of a named date)
// time:  H:mm[:ss[.fffffff]] [AM|PM] | h AM|PM
// zone:  Z | GMT | +hh[:mm] | -hh[:mm] | +hhmm (within 14 hours)
// A date alone is midnight; a time alone is on today's local date. A named day must match the date.

/// What the text said; the wall-clock ticks plus how its zone was given.
struct parsed_date_text {
  std::int64_t wall = 0;
  enum class zone_form { none, utc, offset } zone_given = zone_form::none;
  std::int64_t offset = 0;
};

struct date_token {
  enum class type { number, word, punct } kind;
  std::string text;  // digits, lower-case letters, or the punctuation character
};

std::optional<std::vector<date_token>> tokenize_date(std::string_view s) {
  std::vector<date_token> tokens;
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    const auto c = static_cast<unsigned char>(*p);
    if (const std::size_t ws = whitespace_length(p, end); ws > 0) {
      p += ws;
    } else if (c == '\0') {
      ++p;
    } else if (is_digit(c)) {
      date_token t{date_token::type::number, {}};
      while (p < end && is_digit(static_cast<unsigned char>(*p))) t.text += *p++;
      tokens.push_back(std::move(t));
    } else if (is_ascii_letter(c)) {
      date_token t{date_token::type::word, {}};
      while (p < end && is_ascii_letter(static_cast<unsigned char>(*p))) {
        const auto l = static_cast<unsigned char>(*p++);
        t.text += static_cast<char>(l >= 'A' && l <= 'Z' ? l + 32 : l);
      }
      tokens.push_back(std::move(t));
    } else if (c == '/' || c == '-' || c == '.' || c == ':' || c == ',' || c == '+') {
      tokens.push_back({date_token::type::punct, std::string(1, static_cast<char>(c))});
      ++p;
    } else {
      return std::nullopt;
    }
  }
  return tokens;
}

/// 1..12 for a full or abbreviated English month name, else 0.
int month_from_word(std::string_view w) {
  for (std::size_t i = 0; i < 12; ++i) {
    if (ascii_iequals(w, month_names[i]) || ascii_iequals(w, month_abbreviations[i]))
      return static_cast<int>(i) + 1;
  }
  return 0;
}

/// 0..6 for a full or abbreviated English day name, else -1.
int day_from_word(std::string_view w) {
  for (std::size_t i = 0; i < 7; ++i) {
    if (ascii_iequals(w, day_names[i]) || ascii_iequals(w, day_abbreviations[i])) return static_cast<int>(i);
  }
  return -1;
}

class date_text_parser {
 public:
  date_text_parser(std::vector<date_token> tokens, const zone& z) : tokens_(std::move(tokens)), zone_(z) {}

  std::optional<parsed_date_text> run() {
    int named_day = -1;
    if (is_word(pos_) && (named_day = day_from_word(tokens_[pos_].text)) >= 0) {
      ++pos_;
      if (is_punct(pos_, ',')) ++pos_;
    }
    bool has_date = parse_date();
    bool has_time = false;
    if (has_date) {
      if (is_word(pos_) && tokens_[pos_].text == "t") {
        ++pos_;
        if (!parse_time()) return std::nullopt;
        has_time = true;
      } else {
        has_time = parse_time();
      }
    } else {
      if (!parse_time()) return std::nullopt;
      has_time = true;
      has_date = parse_date();
    }
    parse_zone(has_time);
    if (pos_ != tokens_.size()) return std::nullopt;

    const civil_date today = civil_from_ticks(zone_.now_local());
    if (!has_date) {
      year_ = today.year;
      month_ = today.month;
      day_ = today.day;
    } else if (year_ < 0) {
      year_ = today.year;
    }
    if (year_ < 1 || year_ > 9999 || month_ < 1 || month_ > 12 || day_ < 1 ||
        day_ > days_in_month(year_, month_))
      return std::nullopt;
    if (ampm_ != 0) {
      if (hour_ > 12) return std::nullopt;
      if (ampm_ == 1 && hour_ == 12) hour_ = 0;
      if (ampm_ == 2 && hour_ < 12) hour_ += 12;
    }
    if (hour_ > 23 || minute_ > 59 || second_ > 59) return std::nullopt;
    parsed_date_text out;
    out.wall = days_from_civil(year_, month_, day_) * ticks_per_day + hour_ * ticks_per_hour +
               minute_ * ticks_per_minute + second_ * ticks_per_second + fraction_;
    if (!in_range(out.wall)) return std::nullopt;
    if (named_day >= 0 && day_of_week(out.wall) != named_day) return std::nullopt;
    out.zone_given = zone_given_;
    out.offset = offset_;
    return out;
  }

 private:
  bool is_number(std::size_t i) const {
    return i < tokens_.size() && tokens_[i].kind == date_token::type::number;
  }
  bool is_word(std::size_t i) const {
    return i < tokens_.size() && tokens_[i].kind == date_token::type::word;
  }
  bool is_punct(std::size_t i, char c) const {
    return i < tokens_.size() && tokens_[i].kind == date_token::type::punct && tokens_[i].text[0] == c;
  }
  bool is_date_separator(std::size_t i) const {
    return is_punct(i, '/') || is_punct(i, '-') || is_punct(i, '.');
  }
  std::size_t length(std::size_t i) const { return tokens_[i].text.size(); }
  /// The number's value, capped so that absurd digit runs stay invalid rather than overflowing.
  int value(std::size_t i) const {
    int v = 0;
    for (char c : tokens_[i].text) v = std::min(v * 10 + (c - '0'), 1'000'000);
    return v;
  }
  /// A number usable as a date part: not the hour of a following time.
  bool is_date_number(std::size_t i) const { return is_number(i) && !is_punct(i + 1, ':'); }
  int month_at(std::size_t i) const { return is_word(i) ? month_from_word(tokens_[i].text) : 0; }
  int year_at(std::size_t i) const {
    const int y = value(i);
    if (length(i) <= 2) return y <= 49 ? 2000 + y : 1900 + y;  // TwoDigitYearMax 2049
    return y;
  }
  void skip_named_separator() {
    if (is_date_separator(pos_) || is_punct(pos_, ',')) ++pos_;
  }

  bool parse_date() {
    const std::size_t start = pos_;
    const std::size_t p = pos_;
    // Numeric: y-M-d, M/d/y, M/d, y/M.
    if (is_date_number(p) && is_date_separator(p + 1) && is_date_number(p + 2)) {
      const char sep = tokens_[p + 1].text[0];
      const bool year_first = length(p) >= 3;
      if (is_punct(p + 3, sep) && is_date_number(p + 4)) {
        if (year_first) {
          year_ = value(p);
          month_ = value(p + 2);
          day_ = value(p + 4);
        } else {
          month_ = value(p);
          day_ = value(p + 2);
          year_ = year_at(p + 4);
        }
        pos_ = p + 5;
        return true;
      }
      if (sep == '/') {
        if (year_first) {
          year_ = value(p);
          month_ = value(p + 2);
          day_ = 1;
        } else {
          month_ = value(p);
          day_ = value(p + 2);
        }
        pos_ = p + 3;
        return true;
      }
    }
    // d MMM [y]  and  y MMM d
    if (is_date_number(p)) {
      pos_ = p + 1;
      skip_named_separator();
      if (const int m = month_at(pos_); m > 0) {
        month_ = m;
        ++pos_;
        if (length(p) >= 3) {
          year_ = value(p);
          skip_named_separator();
          if (!is_date_number(pos_) || length(pos_) > 2) {
            pos_ = start;
            return false;
          }
          day_ = value(pos_++);
          return true;
        }
        day_ = value(p);
        read_optional_year();
        return true;
      }
      pos_ = start;
    }
    // MMM d [,] [y]  and  MMM y
    if (const int m = month_at(p); m > 0) {
      month_ = m;
      pos_ = p + 1;
      skip_named_separator();
      if (!is_date_number(pos_)) {
        pos_ = start;
        return false;
      }
      if (length(pos_) >= 3) {
        year_ = value(pos_++);
        day_ = 1;
        return true;
      }
      day_ = value(pos_++);
      read_optional_year();
      return true;
    }
    pos_ = start;
    return false;
  }

  // An optional year after a separator, as in "22 May 2030" or "May 22, 2030"; without one the position
  // stays before the separator.
  void read_optional_year() {
    const std::size_t before_year = pos_;
    skip_named_separator();
    if (is_date_number(pos_)) {
      year_ = year_at(pos_++);
    } else {
      pos_ = before_year;
    }
  }

  bool parse_time() {
    const std::size_t p = pos_;
    if (!is_number(p) || length(p) > 2) return false;
    hour_ = value(p);
    if (is_punct(p + 1, ':') && is_number(p + 2) && length(p + 2) <= 2) {
      minute_ = value(p + 2);
      pos_ = p + 3;
      if (is_punct(pos_, ':') && is_number(pos_ + 1) && length(pos_ + 1) <= 2) {
        second_ = value(pos_ + 1);
        pos_ += 2;
        if (is_punct(pos_, '.') && is_number(pos_ + 1)) {
          const std::string text = "0." + tokens_[pos_ + 1].text;
          double fraction = 0;
          std::from_chars(text.data(), text.data() + text.size(), fraction);
          fraction_ =
              static_cast<std::int64_t>(std::nearbyint(fraction * static_cast<double>(ticks_per_second)));
          pos_ += 2;
        }
      }
      parse_designator();
      return true;
    }
    pos_ = p + 1;
    if (parse_designator()) return true;
    pos_ = p;
    hour_ = 0;
    return false;
  }

  bool parse_designator() {
    if (!is_word(pos_)) return false;
    if (tokens_[pos_].text == "am") {
      ampm_ = 1;
    } else if (tokens_[pos_].text == "pm") {
      ampm_ = 2;
    } else {
      return false;
    }
    ++pos_;
    return true;
  }

  void parse_zone(bool has_time) {
    if (is_word(pos_) && (tokens_[pos_].text == "z" || tokens_[pos_].text == "gmt")) {
      zone_given_ = parsed_date_text::zone_form::utc;
      ++pos_;
      return;
    }
    if (!has_time || !(is_punct(pos_, '+') || is_punct(pos_, '-')) || !is_number(pos_ + 1)) return;
    const bool negative = is_punct(pos_, '-');
    std::size_t p = pos_ + 1;
    int hours = 0;
    int minutes = 0;
    if (length(p) <= 2) {
      hours = value(p++);
      if (is_punct(p, ':') && is_number(p + 1) && length(p + 1) == 2) {
        minutes = value(p + 1);
        p += 2;
      }
    } else if (length(p) == 4) {
      hours = value(p) / 100;
      minutes = value(p) % 100;
      ++p;
    } else {
      return;
    }
    const std::int64_t offset = hours * ticks_per_hour + minutes * ticks_per_minute;
    if (minutes > 59 || offset > max_offset) return;
    zone_given_ = parsed_date_text::zone_form::offset;
    offset_ = negative ? -offset : offset;
    pos_ = p;
  }

  std::vector<date_token> tokens_;
  const zone& zone_;
  std::size_t pos_ = 0;
  int year_ = -1;
  int month_ = 0;
  int day_ = 0;
  int hour_ = 0;
  int minute_ = 0;
  int second_ = 0;
  std::int64_t fraction_ = 0;
  int ampm_ = 0;  // 1 AM, 2 PM
  parsed_date_text::zone_form zone_given_ = parsed_date_text::zone_form::none;
  std::int64_t offset_ = 0;
};

std::optional<parsed_date_text> parse_date_text(std::string_view s, const zone& z) {
  auto tokens = tokenize_date(s);
  if (!tokens || tokens->empty()) return std::nullopt;
  return date_text_parser(std::move(*tokens), z).run();
}

/// DateTime.TryParse(s) with default styles: a zone converts the time to local (kind local).
std::optional<date_value> parse_date_time(std::string_view s, const zone& z) {
  const auto p = parse_date_text(s, z);
  if (!p) return std::nullopt;
  if (p->zone_given == parsed_date_text::zone_form::none)
    return date_value{p->wall, date_kind::unspecified, {}};
  const std::int64_t utc = p->wall - p->offset;
  if (!in_range(utc)) return std::nullopt;
  const std::int64_t local = utc + z.offset_at_utc(utc);
  if (!in_range(local)) return std::nullopt;
  return date_value{local, date_kind::local, {}};
}

/// DateTimeOffset.TryParse(s): a missing zone means the local offset at that time.
std::optional<date_value> parse_date_time_offset(std::string_view s, const zone& z) {
  const auto p = parse_date_text(s, z);
  if (!p) return std::nullopt;
  std::int64_t offset = p->offset;
  if (p->zone_given == parsed_date_text::zone_form::none) offset = z.offset_for_local(p->wall);
  if (!in_range(p->wall - offset)) return std::nullopt;
  return date_value{p->wall, date_kind::unspecified, offset};
}

// ---------------------------------------------------------------------------------------------------------
// G. Date formatting (DateTimeFormat.Format)
// ---------------------------------------------------------------------------------------------------------

void append_padded(std::string& out, std::int64_t value, std::size_t width) {
  const std::string text = std::to_string(value);
  if (text.size() < width) out.append(width - text.size(), '0');
  out += text;
}

/// FormatDigits: one- and two-letter numeric fields (longer runs still print two digits).
void append_field(std::string& out, int value, std::size_t run) {
  append_padded(out, value, std::min<std::size_t>(run, 2));
}

std::size_t repeat_count(const std::u32string& f, std::size_t i) {
  std::size_t n = 1;
  while (i + n < f.size() && f[i + n] == f[i]) ++n;
  return n;
}

void append_offset(std::string& out, std::int64_t offset, std::size_t run) {
  out += offset >= 0 ? '+' : '-';
  if (offset < 0) offset = -offset;
  const std::int64_t hours = offset / ticks_per_hour;
  const std::int64_t minutes = offset % ticks_per_hour / ticks_per_minute;
  if (run <= 1) {
    out += std::to_string(hours);
    return;
  }
  append_padded(out, hours, 2);
  if (run >= 3) {
    out += ':';
    append_padded(out, minutes, 2);
  }
}

/// FormatCustomized: one custom date pattern. False (with `error`) where .NET throws FormatException.
bool format_custom_date(const date_value& v, const std::u32string& f, const zone& z, std::string& out,
                        std::string& error) {
  const civil_date date = civil_from_ticks(v.ticks);
  const std::int64_t time_of_day = v.ticks % ticks_per_day;
  const int hour = static_cast<int>(time_of_day / ticks_per_hour);
  const int minute = static_cast<int>(time_of_day % ticks_per_hour / ticks_per_minute);
  const int second = static_cast<int>(time_of_day % ticks_per_minute / ticks_per_second);
  bool time_only = true;
  std::size_t i = 0;
  while (i < f.size()) {
    const char32_t ch = f[i];
    std::size_t run = 1;
    switch (ch) {
      case 'g':
        run = repeat_count(f, i);
        out += era_name;
        break;
      case 'h': {
        run = repeat_count(f, i);
        const int h12 = hour % 12 == 0 ? 12 : hour % 12;
        append_field(out, h12, run);
        break;
      }
      case 'H':
        run = repeat_count(f, i);
        append_field(out, hour, run);
        break;
      case 'm':
        run = repeat_count(f, i);
        append_field(out, minute, run);
        break;
      case 's':
        run = repeat_count(f, i);
        append_field(out, second, run);
        break;
      case 'f':
      case 'F': {
        run = repeat_count(f, i);
        if (run > 7) {
          error = "a run of more than 7 '" + std::string(1, static_cast<char>(ch)) + "' in a date format";
          return false;
        }
        std::int64_t fraction = v.ticks % ticks_per_second;
        for (std::size_t k = run; k < 7; ++k) fraction /= 10;
        if (ch == 'f') {
          append_padded(out, fraction, run);
        } else {
          std::size_t effective = run;
          while (effective > 0 && fraction % 10 == 0) {
            fraction /= 10;
            --effective;
          }
          if (effective > 0) {
            append_padded(out, fraction, effective);
          } else if (!out.empty() && out.back() == '.') {
            out.pop_back();  // no fraction to show: drop the decimal point before it too
          }
        }
        break;
      }
      case 't':
        run = repeat_count(f, i);
        if (run == 1) {
          out += (hour < 12 ? am_designator : pm_designator).front();
        } else {
          out += hour < 12 ? am_designator : pm_designator;
        }
        break;
      case 'd':
        run = repeat_count(f, i);
        if (run <= 2) {
          append_field(out, date.day, run);
        } else {
          const auto dow = static_cast<std::size_t>(day_of_week(v.ticks));
          out += run == 3 ? day_abbreviations[dow] : day_names[dow];
        }
        time_only = false;
        break;
      case 'M':
        run = repeat_count(f, i);
        if (run <= 2) {
          append_field(out, date.month, run);
        } else {
          const auto m = static_cast<std::size_t>(date.month - 1);
          out += run == 3 ? month_abbreviations[m] : month_names[m];
        }
        time_only = false;
        break;
      case 'y':
        run = repeat_count(f, i);
        if (run <= 2) {
          append_padded(out, date.year % 100, run);
        } else {
          append_padded(out, date.year, run);
        }
        time_only = false;
        break;
      case 'z': {
        run = repeat_count(f, i);
        std::int64_t offset = 0;
        if (v.offset) {
          offset = *v.offset;
        } else if (time_only && v.ticks < ticks_per_day) {
          offset = z.offset_at_utc(z.now_utc());
        } else if (v.kind != date_kind::utc) {
          offset = z.offset_for_local(v.ticks);  // unspecified and local times are read as local
        }
        append_offset(out, offset, run);
        break;
      }
      case 'K':
        if (v.offset) {
          append_offset(out, *v.offset, 3);
        } else if (v.kind == date_kind::local) {
          append_offset(out, z.offset_for_local(v.ticks), 3);
        } else if (v.kind == date_kind::utc) {
          out += 'Z';
        }
        break;
      case ':':
        out += ':';
        break;
      case '/':
        out += '/';
        break;
      case '\'':
      case '"': {
        std::size_t p = i + 1;
        bool closed = false;
        while (p < f.size()) {
          const char32_t c = f[p++];
          if (c == ch) {
            closed = true;
            break;
          }
          if (c == '\\') {
            if (p >= f.size()) {
              error = "a date format ends with '\\'";
              return false;
            }
            append_utf8(out, f[p++]);
          } else {
            append_utf8(out, c);
          }
        }
        if (!closed) {
          error = "a quoted literal in a date format is not closed";
          return false;
        }
        run = p - i;
        break;
      }
      case '%':
        if (i + 1 < f.size() && f[i + 1] != '%') {
          if (!format_custom_date(v, std::u32string(1, f[i + 1]), z, out, error)) return false;
          run = 2;
        } else {
          error = "'%' in a date format must be followed by one pattern character";
          return false;
        }
        break;
      case '\\':
        if (i + 1 >= f.size()) {
          error = "a date format ends with '\\'";
          return false;
        }
        append_utf8(out, f[i + 1]);
        run = 2;
        break;
      default:
        append_utf8(out, ch);
        break;
    }
    i += run;
  }
  return true;
}

/// DateTime.ToString(format) (offset empty) or DateTimeOffset.ToString(format), en-US.
format_result format_date(date_value v, std::string_view format, const zone& z) {
  const std::u32string f = to_code_points(format);
  std::u32string pattern;
  if (f.empty()) {
    pattern = v.offset ? U"M/d/yyyy h:mm:ss tt zzz" : U"M/d/yyyy h:mm:ss tt";
  } else if (f.size() == 1) {
    switch (f[0]) {
      case 'd':
        pattern = short_date_pattern;
        break;
      case 'D':
        pattern = long_date_pattern;
        break;
      case 'f':
        pattern = std::u32string(long_date_pattern) + U" " + std::u32string(short_time_pattern);
        break;
      case 'F':
        pattern = full_pattern;
        break;
      case 'g':
        pattern = std::u32string(short_date_pattern) + U" " + std::u32string(short_time_pattern);
        break;
      case 'G':
        pattern = std::u32string(short_date_pattern) + U" " + std::u32string(long_time_pattern);
        break;
      case 'm':
      case 'M':
        pattern = U"MMMM d";
        break;
      case 'o':
      case 'O':
        pattern = round_trip_pattern;
        break;
      case 'r':
      case 'R':
        if (v.offset) v.ticks -= *v.offset;  // a DateTimeOffset prints its UTC time
        pattern = rfc1123_pattern;
        break;
      case 's':
        pattern = sortable_pattern;
        break;
      case 't':
        pattern = short_time_pattern;
        break;
      case 'T':
        pattern = long_time_pattern;
        break;
      case 'u':
        if (v.offset) v.ticks -= *v.offset;
        pattern = universal_sortable_pattern;
        break;
      case 'U':
        if (v.offset) return format_error("the date format 'U' does not apply to a DateTimeOffset");
        if (v.kind != date_kind::utc) {
          v.ticks = std::clamp<std::int64_t>(v.ticks - z.offset_for_local(v.ticks), 0, max_ticks);
          v.kind = date_kind::utc;
        }
        pattern = full_pattern;
        break;
      case 'y':
      case 'Y':
        pattern = U"MMMM yyyy";
        break;
      default:
        return format_error(quote(format) +
                            " is not a standard date format (one letter of d D f F g G m M o O r R s t T "
                            "u U y Y; use %c for a single custom specifier)");
    }
  } else {
    pattern = f;
  }
  std::string out;
  std::string error;
  if (!format_custom_date(v, pattern, z, out, error)) return format_error(error);
  return {out, {}};
}

// ---------------------------------------------------------------------------------------------------------
// H. The filters
// ---------------------------------------------------------------------------------------------------------

/// Copies a FormatException's reason into the filter's failure text.
std::optional<std::string> finish(format_result r, filter_args& a) {
  if (!r.text) a.failure = std::move(r.error);
  return std::move(r.text);
}

/// NowDate [fmt] / NowDateUtc [fmt]: only without an input (spec §9.4).
std::optional<std::string> now_date_impl(filter_args& a, bool utc) {
  if (a.input || a.options.size() > 1) return std::nullopt;
  const zone z(a.render.clock);
  const date_value now = utc ? date_value{z.now_utc(), date_kind::utc, {}}
                             : date_value{z.now_local(), date_kind::unspecified, {}};
  return finish(format_date(now, a.options.empty() ? std::string_view("O") : a.options[0], z), a);
}

std::optional<std::string> now_date(filter_args& a) { return now_date_impl(a, false); }
std::optional<std::string> now_date_utc(filter_args& a) { return now_date_impl(a, true); }

/// DateTime.AddHours/AddDays (.NET 7+): whole units and the fraction's ticks, truncated; out of range ->
/// nullopt.
std::optional<std::int64_t> add_units(std::int64_t ticks, double amount, std::int64_t ticks_per_unit,
                                      std::int64_t max_units) {
  if (!(std::fabs(amount) <= static_cast<double>(max_units))) return std::nullopt;
  const double integral = std::trunc(amount);
  const double fraction = amount - integral;
  const std::int64_t delta = static_cast<std::int64_t>(integral) * ticks_per_unit +
                             static_cast<std::int64_t>(fraction * static_cast<double>(ticks_per_unit));
  const std::int64_t result = ticks + delta;
  if (!in_range(result)) return std::nullopt;
  return result;
}

/// AddHours n / AddDays n: keeps the input's kind (none or Z) or its explicit offset; prints the "O" form.
std::optional<std::string> add_time(filter_args& a, std::int64_t ticks_per_unit, std::int64_t max_units) {
  if (!a.input || a.options.size() != 1) return std::nullopt;
  const auto amount = parse_double(a.options[0], style_float);
  if (!amount) return std::nullopt;
  const zone z(a.render.clock);
  const auto parsed = parse_date_text(*a.input, z);
  if (!parsed) return std::nullopt;
  const auto overflow = [&]() -> std::optional<std::string> {
    a.failure = "the result is outside the range of dates (years 1 to 9999)";
    return std::nullopt;
  };
  if (parsed->zone_given != parsed_date_text::zone_form::offset) {
    const date_kind kind =
        parsed->zone_given == parsed_date_text::zone_form::utc ? date_kind::utc : date_kind::unspecified;
    const auto ticks = add_units(parsed->wall, *amount, ticks_per_unit, max_units);
    if (!ticks) return overflow();
    return finish(format_date({*ticks, kind, {}}, "O", z), a);
  }
  if (!in_range(parsed->wall - parsed->offset)) return std::nullopt;
  const auto ticks = add_units(parsed->wall, *amount, ticks_per_unit, max_units);
  if (!ticks || !in_range(*ticks - parsed->offset)) return overflow();
  return finish(format_date({*ticks, date_kind::unspecified, parsed->offset}, "O", z), a);
}

constexpr std::int64_t max_days = 3'652'059;  // days from 0001-01-01 to 10000-01-01
std::optional<std::string> add_hours(filter_args& a) { return add_time(a, ticks_per_hour, max_days * 24); }
std::optional<std::string> add_days(filter_args& a) { return add_time(a, ticks_per_day, max_days); }

/// Format fmt (decimal, else DateTimeOffset) or Format type fmt (spec §9.4).
std::optional<std::string> format(filter_args& a) {
  if (!a.input || a.options.empty() || a.options.size() > 2) return std::nullopt;
  const std::string& input = *a.input;
  const zone z(a.render.clock);
  if (a.options.size() == 1) {
    const std::string& fmt = a.options[0];
    if (const auto d = parse_decimal(input)) return finish(format_decimal(*d, fmt), a);
    if (const auto dto = parse_date_time_offset(input, z)) return finish(format_date(*dto, fmt, z), a);
    return std::nullopt;
  }
  const std::string type = to_lower(a.options[0]);
  const std::string& fmt = a.options[1];
  if (type == "int" || type == "int32") {
    const auto v = parse_int32(input);
    return v ? finish(format_int32(*v, fmt), a) : std::nullopt;
  }
  if (type == "double") {
    const auto v = parse_double(input, style_float | allow_thousands);
    return v ? finish(format_double(*v, fmt), a) : std::nullopt;
  }
  if (type == "decimal") {
    const auto v = parse_decimal(input);
    return v ? finish(format_decimal(*v, fmt), a) : std::nullopt;
  }
  if (type == "date" || type == "datetime") {
    const auto v = parse_date_time(input, z);
    return v ? finish(format_date(*v, fmt, z), a) : std::nullopt;
  }
  if (type == "datetimeoffset") {
    const auto v = parse_date_time_offset(input, z);
    return v ? finish(format_date(*v, fmt, z), a) : std::nullopt;
  }
  return std::nullopt;
}

constexpr std::array<builtin_entry, 5> date_table{{
    {"nowdate", now_date},
    {"nowdateutc", now_date_utc},
    {"addhours", add_hours},
    {"adddays", add_days},
    {"format", format},
}};

}  // namespace

std::span<const builtin_entry> date_filters() { return date_table; }

}  // namespace cuttle::engine::detail

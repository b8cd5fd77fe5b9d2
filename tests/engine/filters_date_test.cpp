// Built-in filters, date family: behaviour from shared/reference/octostache-spec.md §9.4 and §12 beyond the
// conformance vectors (NowDate, NowDateUtc, AddHours, AddDays, Format with .NET numeric and date format
// strings, en-US), with a fixed clock and fixed local offsets, and cuttle's diagnostics for bad input.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cuttle/engine.hpp"
#include "engine_helpers.hpp"

namespace {

namespace eng = cuttle::engine;
using cuttle::test::clean_output_is;
using cuttle::test::describe;
using cuttle::test::find_diagnostic;
using cuttle::test::has_diagnostic_mentioning;
using cuttle::test::make_variables;
using cuttle::test::output_is;
using cuttle::test::render;
using namespace std::chrono_literals;

/// Now is 2030-05-22T09:05:00.1234567Z; the local zone is a fixed offset (no DST).
eng::render_options fixed_clock(std::chrono::seconds local_offset) {
  eng::render_options ropts;
  ropts.clock.now = [] {
    return std::chrono::system_clock::time_point(std::chrono::sys_days(std::chrono::year(2030) / 5 / 22) +
                                                 9h + 5min + 123'456'700ns);
  };
  ropts.clock.local_offset = [local_offset](std::chrono::system_clock::time_point) { return local_offset; };
  return ropts;
}

const eng::render_options plus_ten = fixed_clock(10h);
const eng::render_options minus_five = fixed_clock(-5h);

/// Renders `text` with V (and optionally F) set, under the given clock.
eng::render_result eval(std::string_view text, std::optional<std::string> v,
                        const eng::render_options& ropts = plus_ten,
                        std::optional<std::string> f = std::nullopt) {
  eng::variables vars;
  if (v) vars.set("V", *v);
  if (f) vars.set("F", *f);
  return render(text, vars, true, ropts);
}

/// V | Format #{F}, one option (decimal first, then DateTimeOffset).
eng::render_result format1(std::string value, std::string fmt, const eng::render_options& ropts = plus_ten) {
  return eval("#{V | Format #{F}}", std::move(value), ropts, std::move(fmt));
}

/// V | Format type #{F}.
eng::render_result format2(std::string_view type, std::string value, std::string fmt,
                           const eng::render_options& ropts = plus_ten) {
  return eval("#{V | Format " + std::string(type) + " #{F}}", std::move(value), ropts, std::move(fmt));
}

/// Predicate: the token was echoed (no value); the echo quotes options, which are removed before comparing.
::testing::AssertionResult echoed(const eng::render_result& r, std::string_view token) {
  if (r.output) {
    std::string unquoted = *r.output;
    std::erase(unquoted, '"');
    if (unquoted == token) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "expected the echo " << token << describe(r);
}

struct format_case {
  std::string value;
  std::string format;
  std::string expected;
};

void expect_cases(std::string_view type, const std::vector<format_case>& cases,
                  const eng::render_options& ropts = plus_ten) {
  for (const auto& c : cases) {
    const auto r = type.empty() ? format1(c.value, c.format, ropts) : format2(type, c.value, c.format, ropts);
    EXPECT_TRUE(clean_output_is(r, c.expected))
        << type << " value '" << c.value << "' format '" << c.format << "'";
  }
}

// ----- NowDate / NowDateUtc -----

TEST(filters_date_now, now_date_is_local_wall_time_without_offset) {
  EXPECT_TRUE(clean_output_is(eval("#{ | NowDate}", std::nullopt), "2030-05-22T19:05:00.1234567"));
  EXPECT_TRUE(
      clean_output_is(eval("#{ | NowDate}", std::nullopt, minus_five), "2030-05-22T04:05:00.1234567"));
}

TEST(filters_date_now, now_date_utc_ends_with_z) {
  EXPECT_TRUE(clean_output_is(eval("#{ | NowDateUtc}", std::nullopt), "2030-05-22T09:05:00.1234567Z"));
  EXPECT_TRUE(
      clean_output_is(eval("#{ | NowDateUtc}", std::nullopt, minus_five), "2030-05-22T09:05:00.1234567Z"));
}

TEST(filters_date_now, format_option_is_a_date_format) {
  EXPECT_TRUE(clean_output_is(eval("#{ | NowDate yyyy}", std::nullopt), "2030"));
  EXPECT_TRUE(clean_output_is(eval("#{ | NowDate \"dd MMM HH:mm\"}", std::nullopt), "22 May 19:05"));
  EXPECT_TRUE(clean_output_is(eval("#{ | NowDateUtc \"HH:mm:ss.fff\"}", std::nullopt), "09:05:00.123"));
  // An unspecified-kind DateTime reads as local time for z formats; K prints nothing for it.
  EXPECT_TRUE(clean_output_is(eval("#{ | NowDate zzz}", std::nullopt, minus_five), "-05:00"));
  EXPECT_TRUE(clean_output_is(eval("#{ | NowDate \"HH'K'K\"}", std::nullopt), "19K"));
  EXPECT_TRUE(clean_output_is(eval("#{ | NowDateUtc \"HH'K'K\"}", std::nullopt), "09KZ"));
}

TEST(filters_date_now, missing_input_works_but_a_defined_input_is_echoed) {
  EXPECT_TRUE(output_is(eval("#{Missing | NowDate yyyy}", std::nullopt), "2030"));
  EXPECT_TRUE(echoed(eval("#{V | NowDate}", "x"), "#{V | NowDate}"));
  EXPECT_TRUE(echoed(eval("#{V | NowDateUtc}", "x"), "#{V | NowDateUtc}"));
  EXPECT_TRUE(echoed(eval("#{ | NowDate yyyy MM}", std::nullopt), "#{ | NowDate yyyy MM}"));
}

TEST(filters_date_now, chains_keep_kind) {
  EXPECT_TRUE(clean_output_is(eval("#{ | NowDate | Format DateTimeOffset zz}", std::nullopt), "+10"));
  EXPECT_TRUE(
      clean_output_is(eval("#{ | NowDate | Format DateTimeOffset zz}", std::nullopt, minus_five), "-05"));
  EXPECT_TRUE(clean_output_is(eval("#{ | NowDateUtc | Format DateTimeOffset zz}", std::nullopt), "+00"));
  EXPECT_TRUE(
      clean_output_is(eval("#{ | NowDate | AddHours 2}", std::nullopt), "2030-05-22T21:05:00.1234567"));
  EXPECT_TRUE(
      clean_output_is(eval("#{ | NowDateUtc | AddHours 2}", std::nullopt), "2030-05-22T11:05:00.1234567Z"));
}

TEST(filters_date_now, invalid_format_is_reported) {
  const auto r = eval("#{ | NowDate Q}", std::nullopt);
  EXPECT_TRUE(echoed(r, "#{ | NowDate Q}"));
  EXPECT_TRUE(
      has_diagnostic_mentioning(r.diagnostics, eng::error_code::filter_failed, "standard date format"));
}

TEST(filters_date_now, clock_dependent_octostache_vectors) {
  // The conformance runner skips these "other" vectors (clock, zone or culture dependent); with a fixed
  // clock and en-US they have exact answers.
  EXPECT_TRUE(clean_output_is(eval("#{ | NowDate | Format Date MMM}", std::nullopt), "May"));
  EXPECT_TRUE(clean_output_is(eval("#{ | NowDate yyyy}", std::nullopt, minus_five), "2030"));
  const auto cash = make_variables({{"Cash", "23.4"}});
  EXPECT_TRUE(clean_output_is(render("#{Cash | Format Double C}", cash, true, plus_ten), "$23.40"));
  EXPECT_TRUE(clean_output_is(render("#{Cash | Format C}", cash, true, plus_ten), "$23.40"));
}

// ----- AddHours / AddDays -----

TEST(filters_date_add, unspecified_input_stays_unspecified) {
  EXPECT_TRUE(
      clean_output_is(eval("#{V | AddHours 2}", "2030-05-22 09:05:00"), "2030-05-22T11:05:00.0000000"));
  EXPECT_TRUE(
      clean_output_is(eval("#{V | AddHours -10}", "2030-05-22 09:05:00"), "2030-05-21T23:05:00.0000000"));
  EXPECT_TRUE(clean_output_is(eval("#{V | AddDays 10}", "5/22/2030"), "2030-06-01T00:00:00.0000000"));
  EXPECT_TRUE(clean_output_is(eval("#{V | AddDays \"0.25\"}", "2030-05-22"), "2030-05-22T06:00:00.0000000"));
  EXPECT_TRUE(clean_output_is(eval("#{V | AddHours \"1e1\"}", "2030-05-22"), "2030-05-22T10:00:00.0000000"));
}

TEST(filters_date_add, utc_input_stays_utc) {
  EXPECT_TRUE(
      clean_output_is(eval("#{V | AddHours 2}", "2030-05-22T09:05:00Z"), "2030-05-22T11:05:00.0000000Z"));
  EXPECT_TRUE(clean_output_is(eval("#{V | AddDays 1}", "Wed, 22 May 2030 09:05:00 GMT"),
                              "2030-05-23T09:05:00.0000000Z"));
}

TEST(filters_date_add, explicit_offset_is_kept_whatever_the_local_zone) {
  for (const auto* ropts : {&plus_ten, &minus_five}) {
    EXPECT_TRUE(clean_output_is(eval("#{V | AddHours 2}", "2030-05-22T09:05:00+02:00", *ropts),
                                "2030-05-22T11:05:00.0000000+02:00"));
    EXPECT_TRUE(clean_output_is(eval("#{V | AddDays -1}", "2030-05-22 09:05:00.5 -05:30", *ropts),
                                "2030-05-21T09:05:00.5000000-05:30"));
  }
}

TEST(filters_date_add, fractions_are_truncated_to_ticks) {
  // 5e-11 hours is 1.8 ticks: .NET 7+ truncates the fraction's ticks.
  EXPECT_TRUE(clean_output_is(eval("#{V | AddHours #{F}}", "2030-05-22", plus_ten, "0.00000000005"),
                              "2030-05-22T00:00:00.0000001"));
}

TEST(filters_date_add, out_of_range_is_reported) {
  const auto r = eval("#{V | AddDays 1}", "9999-12-31");
  EXPECT_TRUE(echoed(r, "#{V | AddDays 1}"));
  EXPECT_TRUE(has_diagnostic_mentioning(r.diagnostics, eng::error_code::filter_failed, "range"));
  EXPECT_TRUE(echoed(eval("#{V | AddHours -1}", "0001-01-01"), "#{V | AddHours -1}"));
  EXPECT_TRUE(echoed(eval("#{V | AddDays 1e300}", "2030-01-01"), "#{V | AddDays 1e300}"));
}

TEST(filters_date_add, unusable_input_or_options_are_echoed) {
  EXPECT_TRUE(echoed(eval("#{V | AddHours}", "2030-05-22"), "#{V | AddHours}"));
  EXPECT_TRUE(echoed(eval("#{V | AddHours 1 2}", "2030-05-22"), "#{V | AddHours 1 2}"));
  EXPECT_TRUE(echoed(eval("#{V | AddHours abc}", "2030-05-22"), "#{V | AddHours abc}"));
  EXPECT_TRUE(echoed(eval("#{V | AddHours #{F}}", "2030-05-22", plus_ten, "1,5"), "#{V | AddHours #{F}}"));
  EXPECT_TRUE(echoed(eval("#{V | AddDays 1}", "hello"), "#{V | AddDays 1}"));
  EXPECT_TRUE(echoed(eval("#{ | AddDays 1}", std::nullopt), "#{ | AddDays 1}"));
}

// ----- Format: one option -----

TEST(filters_date_format, one_option_tries_decimal_first) {
  expect_cases("", {
                       {"23.4", "C", "$23.40"},
                       {"2030", "yyyy", "yyyy"},
                       {"23.40", "G", "23.40"},
                       {"1,234.5", "N1", "1,234.5"},
                       {" -12 ", "F1", "-12.0"},
                       {"12-", "F1", "-12.0"},
                   });
}

TEST(filters_date_format, one_option_falls_back_to_a_local_date_time_offset) {
  expect_cases("", {
                       {"2030/05/22 09:05:00", "yyyy", "2030"},
                       {"2030/05/22 09:05:00", "O", "2030-05-22T09:05:00.0000000+10:00"},
                       {"2030-05-22T09:05:00Z", "O", "2030-05-22T09:05:00.0000000+00:00"},
                       {"2030-05-22T09:05:00+02:00", "HH:mm zzz", "09:05 +02:00"},
                   });
  expect_cases("", {{"2030/05/22 09:05:00", "O", "2030-05-22T09:05:00.0000000-05:00"}}, minus_five);
}

TEST(filters_date_format, unparseable_input_is_echoed_without_a_reason) {
  const auto r = format1("hello World", "yyyy");
  EXPECT_TRUE(echoed(r, "#{V | Format #{F}}"));
  EXPECT_TRUE(has_diagnostic_mentioning(r.diagnostics, eng::error_code::filter_failed, "gave no value"));
  EXPECT_TRUE(echoed(eval("#{ | Format C}", std::nullopt), "#{ | Format C}"));
  EXPECT_TRUE(echoed(eval("#{V | Format}", "1"), "#{V | Format}"));
  EXPECT_TRUE(echoed(eval("#{V | Format a b c}", "1"), "#{V | Format a b c}"));
  EXPECT_TRUE(echoed(eval("#{V | Format Single G}", "1"), "#{V | Format Single G}"));
}

// ----- Format: decimal -----

TEST(filters_date_format, decimal_standard_formats) {
  expect_cases("decimal",
               {
                   {"1234.5678", "C", "$1,234.57"},
                   {"-1234.5678", "C", "-$1,234.57"},
                   {"1234.5678", "c3", "$1,234.568"},
                   {"1234.5678", "E", "1.234568E+003"},
                   {"-1234.5678", "e2", "-1.23e+003"},
                   {"0", "E2", "0.00E+000"},
                   {"1234.5678", "F", "1234.57"},
                   {"2.5", "F0", "3"},
                   {"-2.5", "F0", "-3"},
                   {"-0.001", "F2", "0.00"},
                   {"1234.5678", "N", "1,234.57"},
                   {"1234567.891", "N0", "1,234,568"},
                   {"0.125", "P", "12.50%"},
                   {"-0.125", "P0", "-13%"},
                   {"1234.5678", "G", "1234.5678"},
                   {"1234.5678", "G2", "1.2E+03"},
                   {"1234.5678", "g6", "1234.57"},
                   {"0.00001", "G", "0.00001"},
                   {"0.00001", "G1", "1E-05"},
                   {"100.00", "", "100.00"},
                   {"-0.00", "G", "0.00"},
                   {"79228162514264337593543950335", "N0", "79,228,162,514,264,337,593,543,950,335"},
                   {"0.1234567890123456789012345678901", "G", "0.1234567890123456789012345679"},
               });
}

TEST(filters_date_format, decimal_rejects_integral_and_round_trip_formats) {
  for (const char* f : {"D", "X", "R", "Q", "D5"}) {
    const auto r = format2("decimal", "42", f);
    EXPECT_TRUE(echoed(r, "#{V | Format decimal #{F}}")) << f;
    EXPECT_TRUE(
        has_diagnostic_mentioning(r.diagnostics, eng::error_code::filter_failed, "not a valid format"))
        << f;
  }
}

TEST(filters_date_format, decimal_parsing_follows_number_style) {
  for (const char* bad :
       {"1e5", "$5", "(5)", "- 5", "5 5", ".", "", "+-5", "79228162514264337593543950336"}) {
    EXPECT_TRUE(echoed(format2("decimal", bad, "G"), "#{V | Format decimal #{F}}")) << bad;
  }
  expect_cases("decimal",
               {{"1,2,3.5", "G", "123.5"}, {"+.5", "G", "0.5"}, {"5.", "G", "5"}, {"\t7 ", "G", "7"}});
}

TEST(filters_date_format, decimal_custom_formats) {
  expect_cases("decimal", {
                              {"1234.5678", "#,##0.00", "1,234.57"},
                              {"1234.5678", "0.###E+0", "1.235E+3"},
                              {"0.001234", "0.00E-00", "1.23E-03"},
                              {"1234", "0.00e+00", "1.23e+03"},
                              {"1234567", "#,#", "1,234,567"},
                              {"1234567", "0,,.0", "1.2"},
                              {"12", "00000", "00012"},
                              {"12.345", "#.#", "12.3"},
                              {"0.45", "#.#", ".5"},
                              {"0", "#.#", ""},
                              {"0.5", "0.0%", "50.0%"},
                              {"1.234", "0.0\u2030", "1234.0\u2030"},
                              {"-1234.5", "#,##0.00;(#,##0.00)", "(1,234.50)"},
                              {"0", "0;(0);zero", "zero"},
                              {"-0.4", "0", "0"},
                              {"-0.5", "x0.0", "-x0.5"},
                              {"123456789", "(###) ###-####", "(12) 345-6789"},
                              {"5", "'#'0 \\# \"q\"", "#5 # q"},
                              {"5", "yyyy-MM", "yyyy-MM"},
                          });
}

// ----- Format: int -----

TEST(filters_date_format, int_formats) {
  expect_cases("int", {
                          {"255", "X", "FF"},
                          {"255", "x4", "00ff"},
                          {"-1", "X", "FFFFFFFF"},
                          {"42", "D5", "00042"},
                          {"-42", "d5", "-00042"},
                          {"12345", "G2", "1.2E+04"},
                          {"12345", "G", "12345"},
                          {"12345", "N0", "12,345"},
                          {"12345", "C", "$12,345.00"},
                          {"12345", "E1", "1.2E+004"},
                          {"-2147483648", "D", "-2147483648"},
                          {"  7  ", "000", "007"},
                      });
  expect_cases("Int32", {{"2030", "yyyy", "yyyy"}});
}

TEST(filters_date_format, int_parsing_is_strict) {
  for (const char* bad : {"1.0", "1,000", "2147483648", "-2147483649", "12-", "0x10", "abc"}) {
    EXPECT_TRUE(echoed(format2("int", bad, "G"), "#{V | Format int #{F}}")) << bad;
  }
  EXPECT_TRUE(echoed(format2("int", "1", "R"), "#{V | Format int #{F}}"));
}

// ----- Format: double -----

TEST(filters_date_format, double_formats) {
  expect_cases("double", {
                             {"23.4", "C", "$23.40"},
                             {"0.1", "R", "0.1"},
                             {"0.1", "G17", "0.10000000000000001"},
                             {"0.1", "F20", "0.10000000000000000555"},
                             {"1e20", "G", "1E+20"},
                             {"1e15", "G", "1E+15"},
                             {"1e14", "G", "100000000000000"},
                             {"0.0001", "G", "0.0001"},
                             {"0.00001", "G", "1E-05"},
                             {"123456789012345678", "G", "1.2345678901234568E+17"},
                             {"2.5", "F0", "2"},
                             {"3.5", "F0", "4"},
                             {"1.005", "F2", "1.00"},
                             {"-0.001", "F2", "-0.00"},
                             {"-0.4", "0", "-0"},
                             {"1,234.5", "N1", "1,234.5"},
                             {"1e5", "G", "100000"},
                             {"-1.5E-3", "E3", "-1.500E-003"},
                             {"0.123456789012345678", "0.##################", "0.123456789012346"},
                             {"\u221E", "G", "\u221E"},
                             {"-\u221E", "F2", "-\u221E"},
                             {"nan", "N", "NaN"},
                         });
}

TEST(filters_date_format, double_rejects_integral_formats) {
  for (const char* f : {"D", "X2", "Q"}) {
    const auto r = format2("double", "1", f);
    EXPECT_TRUE(echoed(r, "#{V | Format double #{F}}")) << f;
    EXPECT_TRUE(has_diagnostic_mentioning(r.diagnostics, eng::error_code::filter_failed, "double")) << f;
  }
  EXPECT_TRUE(echoed(format2("double", "1-", "G"), "#{V | Format double #{F}}"));
}

// ----- Format: dates -----

TEST(filters_date_format, standard_date_formats) {
  const std::string v = "2030-05-22T21:05:07.1200000Z";
  expect_cases("datetimeoffset", {
                                     {v, "d", "5/22/2030"},
                                     {v, "D", "Wednesday, May 22, 2030"},
                                     {v, "f", "Wednesday, May 22, 2030 9:05 PM"},
                                     {v, "F", "Wednesday, May 22, 2030 9:05:07 PM"},
                                     {v, "g", "5/22/2030 9:05 PM"},
                                     {v, "G", "5/22/2030 9:05:07 PM"},
                                     {v, "m", "May 22"},
                                     {v, "M", "May 22"},
                                     {v, "o", "2030-05-22T21:05:07.1200000+00:00"},
                                     {v, "O", "2030-05-22T21:05:07.1200000+00:00"},
                                     {v, "r", "Wed, 22 May 2030 21:05:07 GMT"},
                                     {v, "s", "2030-05-22T21:05:07"},
                                     {v, "t", "9:05 PM"},
                                     {v, "T", "9:05:07 PM"},
                                     {v, "u", "2030-05-22 21:05:07Z"},
                                     {v, "y", "May 2030"},
                                     {v, "Y", "May 2030"},
                                     {v, "", "5/22/2030 9:05:07 PM +00:00"},
                                 });
}

TEST(filters_date_format, offsets_in_standard_formats) {
  const std::string v = "2030-05-22T09:05:07+02:00";
  expect_cases("datetimeoffset", {
                                     {v, "O", "2030-05-22T09:05:07.0000000+02:00"},
                                     {v, "R", "Wed, 22 May 2030 07:05:07 GMT"},
                                     {v, "u", "2030-05-22 07:05:07Z"},
                                     {v, "s", "2030-05-22T09:05:07"},
                                 });
  // DateTime converts an explicit zone to local time (kind local).
  expect_cases("datetime", {
                               {v, "O", "2030-05-22T17:05:07.0000000+10:00"},
                               {v, "U", "Wednesday, May 22, 2030 7:05:07 AM"},
                               {"2030-05-22 09:05:07", "O", "2030-05-22T09:05:07.0000000"},
                               {"2030-05-22 09:05:07", "U", "Tuesday, May 21, 2030 11:05:07 PM"},
                               {"2030-05-22 09:05:07", "", "5/22/2030 9:05:07 AM"},
                           });
  expect_cases("date", {{v, "O", "2030-05-22T02:05:07.0000000-05:00"}}, minus_five);
  const auto r = format2("datetimeoffset", v, "U");
  EXPECT_TRUE(echoed(r, "#{V | Format datetimeoffset #{F}}"));
  EXPECT_TRUE(has_diagnostic_mentioning(r.diagnostics, eng::error_code::filter_failed, "'U'"));
}

TEST(filters_date_format, custom_date_specifiers) {
  expect_cases("datetimeoffset",
               {
                   {"2030-05-22T09:05:07.1234567Z", "HH:mm:ss.fff", "09:05:07.123"},
                   {"2030-05-22T09:05:07.1234567Z", "fffffff FFFFFFF f", "1234567 1234567 1"},
                   {"2030-05-22T09:05:07.1200000Z", "ss.FFFFFFF", "07.12"},
                   {"2030-05-22T09:05:07Z", "ss.FFFFFFF", "07"},
                   {"2030-05-22T09:05:07Z", "%d", "22"},
                   {"2030-05-22T09:05:07Z", "%h", "9"},
                   {"2030-05-22T09:05:07Z", "%y", "30"},
                   {"2030-05-22T00:05:07Z", "h hh H HH", "12 12 0 00"},
                   {"2030-05-22T21:05:07Z", "h tt t", "9 PM P"},
                   {"2030-05-22T09:05:07Z", "dddd ddd dd d", "Wednesday Wed 22 22"},
                   {"2030-05-02T09:05:07Z", "MMMM MMM MM M", "May May 05 5"},
                   {"2005-05-02T09:05:07Z", "y yy yyy yyyy yyyyy", "5 05 2005 2005 02005"},
                   {"2030-05-22T09:05:07+05:30", "z zz zzz K", "+5 +05 +05:30 +05:30"},
                   {"2030-05-22T09:05:07-05:00", "z zz zzz", "-5 -05 -05:00"},
                   {"2030-05-22T09:05:07Z", "'lit' \"q\" \\H H", "lit q H 9"},
                   {"2030-05-22T09:05:07Z", "yyyy/MM/dd g", "2030/05/22 AD"},
                   {"2030-05-22T09:05:07Z", "HH\u00e9mm", "09\u00e905"},
               });
}

TEST(filters_date_format, invalid_date_formats_are_reported) {
  for (const char* f : {"Q", "H", ":", "'open", "ffffffff", "%", "HH\\", "%%"}) {
    const auto r = format2("datetime", "2030-05-22", f);
    EXPECT_TRUE(echoed(r, "#{V | Format datetime #{F}}")) << f;
    EXPECT_NE(find_diagnostic(r.diagnostics, eng::error_code::filter_failed), nullptr) << f << describe(r);
    EXPECT_FALSE(has_diagnostic_mentioning(r.diagnostics, eng::error_code::filter_failed, "gave no value"))
        << f;
  }
}

TEST(filters_date_format, failure_points_at_the_token) {
  const auto r = eval("line one\n  x #{V | Format Date Q}", "2030-05-22");
  ASSERT_TRUE(output_is(r, "line one\n  x #{V | Format \"Date\" \"Q\"}"));
  const auto* d = find_diagnostic(r.diagnostics, eng::error_code::filter_failed);
  ASSERT_NE(d, nullptr) << describe(r);
  EXPECT_EQ(d->line, 2U);
  EXPECT_EQ(d->column, 5U);
}

TEST(filters_date_format, local_offset_is_the_one_in_force_at_that_local_time) {
  // A zone that moves from +01:00 to +02:00 at 2030-03-31T01:00Z (as central Europe does).
  eng::render_options ropts = plus_ten;
  const auto change = std::chrono::sys_days(std::chrono::year(2030) / 3 / 31) + 1h;
  ropts.clock.local_offset = [change](std::chrono::system_clock::time_point utc) {
    return std::chrono::seconds(utc < change ? 1h : 2h);
  };
  expect_cases("datetimeoffset",
               {
                   {"2030-03-31 01:30", "O", "2030-03-31T01:30:00.0000000+01:00"},
                   {"2030-03-31 03:30", "O", "2030-03-31T03:30:00.0000000+02:00"},
               },
               ropts);
  expect_cases("datetime",
               {
                   {"2030-03-31T00:30:00Z", "HH:mm K", "01:30 +01:00"},
                   {"2030-03-31T01:30:00Z", "HH:mm K", "03:30 +02:00"},
                   {"2030-01-15 12:00", "zzz", "+01:00"},
                   {"2030-07-15 12:00", "zzz", "+02:00"},
               },
               ropts);
}

// ----- Date parsing -----

TEST(filters_date_parse, accepted_shapes) {
  expect_cases("datetime", {
                               {"2030-05-22", "O", "2030-05-22T00:00:00.0000000"},
                               {"2030-05-22T09:05", "O", "2030-05-22T09:05:00.0000000"},
                               {"2030-05-22 09:05:00.1234567", "O", "2030-05-22T09:05:00.1234567"},
                               {"2030/05/22 09:05:00", "O", "2030-05-22T09:05:00.0000000"},
                               {"2030.5.2", "O", "2030-05-02T00:00:00.0000000"},
                               {"5/22/2030", "O", "2030-05-22T00:00:00.0000000"},
                               {"5/22/2030 9:05 PM", "O", "2030-05-22T21:05:00.0000000"},
                               {"5/22/30 12:05:09 am", "O", "2030-05-22T00:05:09.0000000"},
                               {"5/22/75", "yyyy", "1975"},
                               {"22 May 2030", "O", "2030-05-22T00:00:00.0000000"},
                               {"22-may-2030 10:00", "O", "2030-05-22T10:00:00.0000000"},
                               {"May 22, 2030", "O", "2030-05-22T00:00:00.0000000"},
                               {"Wednesday, May 22, 2030 9 AM", "O", "2030-05-22T09:00:00.0000000"},
                               {"September 2030", "O", "2030-09-01T00:00:00.0000000"},
                               {"May 22", "O", "2030-05-22T00:00:00.0000000"},
                               {"  2030-05-22  ", "O", "2030-05-22T00:00:00.0000000"},
                               {"9:05", "O", "2030-05-22T09:05:00.0000000"},
                               {"11:30 PM", "O", "2030-05-22T23:30:00.0000000"},
                           });
  // "Today" is the local date: at 09:05Z it is still the 22nd at -05:00 and already the 22nd at +10:00.
  expect_cases("datetime", {{"9:05", "O", "2030-05-22T09:05:00.0000000"}}, minus_five);
  expect_cases("datetimeoffset",
               {
                   {"Wed, 22 May 2030 09:05:00 GMT", "O", "2030-05-22T09:05:00.0000000+00:00"},
                   {"2030-05-22T09:05:00.5-0330", "O", "2030-05-22T09:05:00.5000000-03:30"},
                   {"2030-05-22 09:05 +14:00", "zzz", "+14:00"},
               });
}

TEST(filters_date_parse, rejected_shapes) {
  for (const char* bad : {"2030-02-30", "2029-02-29", "2030-05-22T25:00", "2030-05-22 09:60", "13/1/2030",
                          "22/5/2030", "Thu, 22 May 2030 09:05:00 GMT", "2030-05-22 09:05 +15:00", "13:00 PM",
                          "hello", "20300522", "10000-01-01", "0000-01-01", "May 32, 2030"}) {
    EXPECT_TRUE(echoed(format2("datetime", bad, "O"), "#{V | Format datetime #{F}}")) << bad;
  }
}

TEST(filters_date_parse, zone_conversion_out_of_range_is_rejected) {
  EXPECT_TRUE(echoed(format2("datetimeoffset", "0001-01-01T00:00:00+01:00", "O"),
                     "#{V | Format datetimeoffset #{F}}"));
  EXPECT_TRUE(echoed(format2("datetime", "9999-12-31T23:00:00Z", "O"), "#{V | Format datetime #{F}}"));
}

}  // namespace

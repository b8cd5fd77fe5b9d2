// Built-in filters, text family: behaviour from shared/reference/octostache-spec.md §9 beyond the
// conformance vectors, and cuttle's diagnostics for bad input.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "cuttle/engine.hpp"
#include "engine_helpers.hpp"

namespace cuttle::test {
namespace {

// Renders `text` with the single variable foo = `value` (continue mode, so a failed token is echoed).
eng::render_result with_foo(std::string_view text, std::string_view value) {
  return render(text, make_variables({{"foo", std::string(value)}}), false);
}

// The token was echoed and reported as E004 mentioning `word`, at `line`:`column`.
::testing::AssertionResult filter_failed_at(const eng::render_result& r, std::string_view echo,
                                            std::string_view word, std::uint32_t line, std::uint32_t column) {
  if (!r.output || r.output->find(echo) == std::string::npos) {
    return ::testing::AssertionFailure() << "token not echoed:" << describe(r);
  }
  auto found = has_diagnostic_mentioning(r.diagnostics, eng::error_code::filter_failed, word);
  if (!found) return found;
  const auto* d = find_diagnostic(r.diagnostics, eng::error_code::filter_failed);
  if (d->line != line || d->column != column) {
    return ::testing::AssertionFailure() << "wrong position:" << describe(r);
  }
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------------------------------
// Replace and Match: .NET regular expressions

TEST(text_filters_regex, replace_numbers_unnamed_groups_before_named_ones_like_dotnet) {
  // .NET: (b) is $1 and the named group x is $2.
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "(?<x>a)(b)" "$1$2"})t", "ab"), "ba"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "(?<x>a)(b)" "${x}-$2"})t", "ab"), "a-a"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "(?'y'a)" "[${y}]"})t", "ab"), "[a]b"));
}

TEST(text_filters_regex, replacement_specials) {
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace b "[$&]"})t", "abc"), "a[b]c"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace b "[$`]"})t", "abc"), "a[a]c"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace b "[$']"})t", "abc"), "a[c]c"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace b "[$_]"})t", "abc"), "a[abc]c"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "(a)(b)?" "[$+]"})t", "ab a"), "[b] []"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace b "[$+]"})t", "abc"), "a[b]c"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace b "$$1"})t", "abc"), "a$1c"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace b "$0$0"})t", "abc"), "abbc"));
}

TEST(text_filters_regex, unknown_substitutions_are_literal_text) {
  // $10 is group 10 or nothing: .NET does not fall back to $1 followed by "0".
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "(b)" "$10"})t", "abc"), "a$10c"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "(b)" "${1}0"})t", "abc"), "ab0c"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace b "$2"})t", "abc"), "a$2c"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace b "${nope}"})t", "abc"), "a${nope}c"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace b "${1"})t", "abc"), "a${1c"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace b "x$"})t", "abc"), "ax$c"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace b "$x\1"})t", "abc"), "a$x\\1c"));
}

TEST(text_filters_regex, group_that_did_not_take_part_is_empty) {
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "a(x)?" "[$1]"})t", "ab"), "[]b"));
}

TEST(text_filters_regex, group_number_beyond_int_is_an_error_as_in_dotnet) {
  const auto r = with_foo(R"t(#{foo | Replace b "$99999999999"})t", "abc");
  EXPECT_TRUE(filter_failed_at(r, R"t(#{foo | Replace "b" "$99999999999"})t", "capture group numbers", 1, 1));
}

TEST(text_filters_regex, anchors_and_dot_follow_dotnet_defaults) {
  // `$` matches at the end and before a final "\n"; `^` only at the start without (?m).
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "a$" x})t", "ba\n"), "bx\n"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "^a" x})t", "a\na"), "x\na"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "(?m)^a" x})t", "a\na"), "x\nx"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "(?m)a$" x})t", "a\r\na"), "a\r\nx"));
  // `.` excludes only LF: CR is an ordinary character.
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Match "a.b"})t", "a\rb"), "true"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Match "a.b"})t", "a\nb"), "false"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Match "(?s)a.b"})t", "a\nb"), "true"));
}

TEST(text_filters_regex, unicode_classes_and_escapes) {
  // \d and \w are Unicode-aware in .NET.
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Match "^\d+$"})t", "\u0663\u0664"), "true"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Match "^\w+$"})t", "\u00e9t\u00e9"), "true"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "\u00e9" e})t", "caf\u00e9"), "cafe"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "\x41" b})t", "xAx"), "xbx"));
  // A surrogate-pair escape matches the astral character.
  EXPECT_TRUE(
      clean_output_is(with_foo(R"t(#{foo | Replace "\uD83D\uDE00" ":)"})t", "hi \U0001F600"), "hi :)"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "." x})t", "\U0001F600a"), "xx"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Match "(?i)ABC"})t", "xabc"), "true"));
}

TEST(text_filters_regex, lookaround_and_backreferences) {
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "(?<=a)b" x})t", "abcb"), "axcb"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "b(?!c)" x})t", "abcb"), "abcx"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "(\w)\1" "<$1>"})t", "aabcc"), "<a>b<c>"));
  EXPECT_TRUE(
      clean_output_is(with_foo(R"t(#{foo | Replace "(?<c>\w)\k<c>" "<${c}>"})t", "aabcc"), "<a>b<c>"));
}

TEST(text_filters_regex, empty_matches_advance_one_character) {
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "x*" "-"})t", "abc"), "-a-b-c-"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "a*" "-"})t", "baaac"), "-b--c-"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace "" "-"})t", ""), "-"));
  EXPECT_TRUE(
      clean_output_is(with_foo(R"t(#{foo | Replace "" "-"})t", "\u00e9\U0001F600"), "-\u00e9-\U0001F600-"));
}

TEST(text_filters_regex, extra_replace_options_are_ignored_and_match_needs_one) {
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace b x y})t", "abc"), "axc"));
  EXPECT_TRUE(output_is(with_foo(R"t(#{foo | Match})t", "abc"), "#{foo | Match}"));
  EXPECT_TRUE(output_is(render("#{Missing | Replace a b}"), "#{Missing | Replace \"a\" \"b\"}"));
  EXPECT_TRUE(output_is(render("#{Missing | Match a}"), "#{Missing | Match \"a\"}"));
}

TEST(text_filters_regex, invalid_pattern_is_reported_with_its_position) {
  const auto r = with_foo("line one\n  #{foo | Replace \"a(b\" x}", "ab");
  EXPECT_TRUE(
      filter_failed_at(r, R"t(#{foo | Replace "a(b" "x"})t", "invalid regular expression at offset 3", 2, 3));
  EXPECT_TRUE(has_diagnostic_mentioning(r.diagnostics, eng::error_code::filter_failed,
                                        "missing closing parenthesis"));
  EXPECT_EQ(r.output, "line one\n  #{foo | Replace \"a(b\" \"x\"}");

  const auto m = with_foo(R"t(#{foo | Match "[a-"})t", "ab");
  EXPECT_TRUE(filter_failed_at(m, R"t(#{foo | Match "[a-"})t", "invalid regular expression", 1, 1));
}

TEST(text_filters_regex, catastrophic_backtracking_fails_instead_of_hanging) {
  const std::string subject = std::string(40, 'a') + "!";
  const auto r = with_foo(R"t(#{foo | Match "^(a+)+$"})t", subject);
  EXPECT_TRUE(filter_failed_at(r, R"t(#{foo | Match "^(a+)+$"})t", "backtracking", 1, 1));
  const auto s = with_foo(R"t(#{foo | Replace "(a|aa)+$" x})t", subject);
  EXPECT_TRUE(has_diagnostic_mentioning(s.diagnostics, eng::error_code::filter_failed, "match limit"));
}

TEST(text_filters_regex, invalid_utf8_reads_as_replacement_characters) {
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Replace b x})t",
                                       "a\xff"
                                       "b"),
                              "a\xef\xbf\xbdx"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Match "^a.b$"})t", "a\xc3(b"), "false"));
}

TEST(text_filters_regex, many_patterns_and_threads_share_the_cache_safely) {
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &ok] {
      int good = 0;
      for (int i = 0; i < 200; ++i) {
        // 50 distinct patterns per thread overflow the per-thread cache, exercising eviction.
        const std::string digit = std::to_string((i * 7 + t) % 50);
        const auto r =
            render("#{foo | Replace \"x" + digit + "\" y}", make_variables({{"foo", "ax" + digit + "b"}}));
        if (r.output && *r.output == "ayb") ++good;
      }
      ok[static_cast<std::size_t>(t)] = good;
    });
  }
  for (auto& th : threads) th.join();
  for (const int good : ok) EXPECT_EQ(good, 200);
}

// ---------------------------------------------------------------------------------------------------
// StartsWith, EndsWith, Contains

TEST(text_filters_compare, ordinal_comparisons) {
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | StartsWith \"\"}", "abc"), "true"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | EndsWith \"\"}", "abc"), "true"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Contains \"\"}", ""), "true"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Contains \"\u00e9\"}", "caf\u00e9s"), "true"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | EndsWith \"\u00c9\"}", "caf\u00e9"), "false"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | StartsWith abcd}", "abc"), "false"));
}

TEST(text_filters_compare, missing_input_gives_no_value) {
  EXPECT_TRUE(output_is(render("#{Missing | StartsWith a}"), "#{Missing | StartsWith \"a\"}"));
  EXPECT_TRUE(output_is(render("#{Missing | EndsWith a}"), "#{Missing | EndsWith \"a\"}"));
  EXPECT_TRUE(output_is(render("#{Missing | Contains a}"), "#{Missing | Contains \"a\"}"));
}

// ---------------------------------------------------------------------------------------------------
// Substring and Truncate

TEST(text_filters_substring, options_parse_as_dotnet_int) {
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Substring " 3 "})t", "abcdef"), "abc"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Substring "+1" "-0"})t", "abcdef"), ""));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Substring 0002 2})t", "abcdef"), "cd"));
  EXPECT_TRUE(
      output_is(with_foo(R"t(#{foo | Substring "3.0"})t", "abcdef"), R"t(#{foo | Substring "3.0"})t"));
  EXPECT_TRUE(output_is(with_foo(R"t(#{foo | Substring 2147483648})t", "abc"),
                        R"t(#{foo | Substring "2147483648"})t"));
  EXPECT_TRUE(clean_output_is(with_foo(R"t(#{foo | Substring 2147483647})t", "abc"), "abc"));
  EXPECT_TRUE(output_is(with_foo(R"t(#{foo | Substring 0x1})t", "abc"), R"t(#{foo | Substring "0x1"})t"));
  EXPECT_TRUE(output_is(with_foo(R"t(#{foo | Substring "- 1"})t", "abc"), R"t(#{foo | Substring "- 1"})t"));
}

TEST(text_filters_substring, counts_utf16_code_units) {
  // U+1F600 is two UTF-16 units; cutting it in half leaves a lone surrogate, written as U+FFFD.
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Substring 2}", "\U0001F600x"), "\U0001F600"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Substring 1}", "\U0001F600x"), "\ufffd"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Substring 1 2}", "\U0001F600x"), "\ufffdx"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Substring 3 1}", "\U0001F600x"), ""));
  EXPECT_TRUE(output_is(with_foo("#{foo | Substring 4 1}", "\U0001F600x"), "#{foo | Substring \"4\" \"1\"}"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Substring 1 1}", "\u00e9\u00e8\u00ea"), "\u00e8"));
}

TEST(text_filters_substring, bad_options_are_reported_at_the_token) {
  const auto r = with_foo("x\n\n   #{foo | Substring 2 -1}", "abc");
  EXPECT_TRUE(filter_failed_at(r, R"t(#{foo | Substring "2" "-1"})t", "Substring", 3, 4));
  EXPECT_EQ(r.output, "x\n\n   #{foo | Substring \"2\" \"-1\"}");
}

TEST(text_filters_substring, missing_input_gives_no_value) {
  EXPECT_TRUE(output_is(render("#{Missing | Substring 1}"), "#{Missing | Substring \"1\"}"));
  EXPECT_TRUE(output_is(render("#{Missing | Truncate 1}"), "#{Missing | Truncate \"1\"}"));
}

TEST(text_filters_truncate, edges) {
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Truncate 0}", "abc"), "..."));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Truncate 0}", ""), ""));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Truncate 3}", "abc"), "abc"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Truncate 2 \"\" ignored}", "abc"), "ab"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Truncate \" 1\" ~}", "abc"), "a~"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Truncate 1}", "\U0001F600x"), "\ufffd..."));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Truncate 2}", "\U0001F600x"), "\U0001F600..."));
  EXPECT_TRUE(output_is(with_foo("#{foo | Truncate \"1.5\"}", "abc"), "#{foo | Truncate \"1.5\"}"));
}

// ---------------------------------------------------------------------------------------------------
// Indent

TEST(text_filters_indent, sizes_and_literals) {
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Indent 0}", "a\nb"), "a\nb"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Indent 002}", "a\nb"), "  a\n  b"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Indent 1/0}", "a\nb"), " a\nb"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Indent 1/2/3}", "a\nb"), "1/2/3a\n1/2/3b"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Indent 1234}", "a"), "1234a"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Indent \"\"}", "a\nb"), "a\nb"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Indent \"> \" \"\"}", "a\nb"), "> a\nb"));
}

TEST(text_filters_indent, crlf_keeps_the_cr_before_the_indent) {
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Indent 2}", "a\r\nb\n"), "  a\r\n  b\n  "));
}

TEST(text_filters_indent, size_followed_by_a_newline_still_counts_as_a_size) {
  // .NET's `$` also matches before a final "\n", so "3\n" reads as three spaces.
  const auto r = render("#{foo | Indent #{spec}}", make_variables({{"foo", "a\nb"}, {"spec", "3\n"}}));
  EXPECT_TRUE(clean_output_is(r, "   a\n   b"));
}

TEST(text_filters_indent, empty_input_and_too_many_options) {
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Indent a b c}", ""), ""));
  EXPECT_TRUE(output_is(with_foo("#{foo | Indent a b c}", "x"), "#{foo | Indent \"a\" \"b\" \"c\"}"));
}

// ---------------------------------------------------------------------------------------------------
// Append and Prepend

TEST(text_filters_append, missing_input_and_chains) {
  EXPECT_TRUE(clean_output_is(render("#{Missing | Append a b}"), "ab"));
  EXPECT_TRUE(clean_output_is(render("#{Missing | Prepend a b}"), "ab"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Prepend \"(\" | Append \")\"}", "x"), "(x)"));
  EXPECT_TRUE(clean_output_is(with_foo("#{foo | Append \"\"}", "x"), "x"));
}

}  // namespace
}  // namespace cuttle::test

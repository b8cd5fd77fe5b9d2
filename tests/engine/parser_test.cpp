// Parser: which templates parse in each mode, the normalised text of parsed templates (§5.4, used as the
// AST dump since the AST is private), and the argument names a template references (§11).
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "cuttle/engine.hpp"
#include "engine_helpers.hpp"

namespace {

namespace eng = cuttle::engine;

eng::compiled_template parse(const std::string& text, bool halt_on_error = true) {
  eng::parse_options popts;
  popts.halt_on_error = halt_on_error;
  return eng::compiled_template::parse(text, popts);
}

// --- which templates parse (halting mode)
// ------------------------------------------------------------------------

class parses_in_halting_mode : public ::testing::TestWithParam<const char*> {};

TEST_P(parses_in_halting_mode, without_diagnostics_of_severity_error) {
  const auto tpl = parse(GetParam());
  EXPECT_FALSE(tpl.parse_failed()) << GetParam();
  EXPECT_EQ(cuttle::test::find_error(tpl.diagnostics(), eng::error_code::parse_error), nullptr);
  EXPECT_EQ(tpl.source(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    accepted, parses_in_halting_mode,
    ::testing::Values("", "no tokens", "a##{b}", "#{Foo}", "#{ Foo }", "#{if X}unterminated", "#{Foo in}",
                      "#{Tea IN Cup}", "#{ | NowDate}", "#{|Append foo}", "#{A | Format \"0.00\"}", "#{A[]}",
                      "#{A[ x ].B}", "#{A[#{B}].C}", "#{A[b[0].c].D}", "#{A | Replace #{a}#{b}}",
                      "#{A | AddHours #{H}| Format x}", "#{A | Append \" \" #{foo} \" \" value}",
                      "#{A | Replace #{a} }", "#{A | Indent \\\"# \\\"}", "#{each my item in L}x#{/each}",
                      "#{IF x}y#{/if}", "#{calc 2-B}", "#{calc ( 3+2)}", "#{else}", "#{if A}#{ else}#{/if}",
                      "#{if A == \"x\"}y#{elseif B != C}z#{else}w#{/if}", "#{unless A}x#{else}y#{/unless}",
                      "#{if A | ToLower == B | Trim}y#{/if}", "#{if \"x\" == A}y#{/if}",
                      "#{each a in B.C[d]}#{a}#{/each}", "#{Foo . Bar}", "#{Foo [x]}", "#"));

class fails_in_halting_mode : public ::testing::TestWithParam<const char*> {};

TEST_P(fails_in_halting_mode, and_renders_verbatim) {
  const auto tpl = parse(GetParam());
  EXPECT_TRUE(tpl.parse_failed()) << GetParam();
  EXPECT_NE(cuttle::test::find_diagnostic(tpl.diagnostics(), eng::error_code::parse_error), nullptr);
  const auto r = tpl.render(cuttle::test::make_variables({{"Foo", "F"}, {"A", "a"}, {"B", "b"}}));
  EXPECT_TRUE(cuttle::test::output_is(r, GetParam()));
  EXPECT_NE(r.octostache_error, "");
}

INSTANTIATE_TEST_SUITE_P(rejected, fails_in_halting_mode,
                         ::testing::Values("#{Foo", "#{Foo} #{", "#{a.}", "#{a..b}", "#{a.[x]}",
                                           "#{Tea in Cup}", "#{/if}", "x#{/x}", "#{if \"a\" == \"a\"}y#{/if}",
                                           "#{each a in B}x", "#{A | Replace a.b c}",
                                           "#{A | Replace #{a} #{b}}", "#{A | AddHours #{H} | Format x}",
                                           "#{calc (3+2 )}", "#{each x IN y}a#{/each}", "#{Fo[o}",
                                           "#{if A}x#{/IF}", "#{unless A}x#{elseif B == \"y\"}z#{/unless}",
                                           "#{A == B}"));

TEST(parser_modes, continue_mode_never_fails_as_a_whole) {
  for (const char* text : {"#{Foo", "#{/if}", "#{a.}", "#{each a in B}x", "#{if \"a\" == \"a\"}y#{/if}"}) {
    const auto tpl = parse(text, /*halt_on_error=*/false);
    EXPECT_FALSE(tpl.parse_failed()) << text;
  }
}

// --- normalised text (to_string)
// -------------------------------------------------------------------------------------

struct print_case {
  const char* text;
  const char* printed;
};

void PrintTo(const print_case& c, std::ostream* os) {
  *os << ::testing::PrintToString(std::string(c.text)) << " prints as "
      << ::testing::PrintToString(std::string(c.printed));
}

class normalised_text : public ::testing::TestWithParam<print_case> {};

TEST_P(normalised_text, matches_octostache) {
  const auto tpl = parse(GetParam().text);
  ASSERT_FALSE(tpl.parse_failed()) << GetParam().text;
  EXPECT_EQ(tpl.to_string(), GetParam().printed) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    section_5_4, normalised_text,
    ::testing::Values(print_case{"#{ Foo }", "#{Foo}"}, print_case{"#{Foo . Bar}", "#{Foo.Bar}"},
                      print_case{"#{My  Var}", "#{My  Var}"},
                      print_case{"#{Foo  |ToBazooka   6}", "#{Foo | ToBazooka \"6\"}"},
                      print_case{"#{ | Md5}", "#{ | Md5}"}, print_case{"#{A|toupper}", "#{A | toupper}"},
                      print_case{"#{foo | Substring 1 2 3}", "#{foo | Substring \"1\" \"2\" \"3\"}"},
                      print_case{"#{A | Append \\\"x y\\\"}", "#{A | Append \"x y\"}"},
                      print_case{"#{A | Append \\\"a#{b\\\"}", "#{A | Append \"a##{b\"}"},
                      print_case{"#{A | Replace #{B} x}", "#{A | Replace #{B} \"x\"}"},
                      print_case{"#{A[ x ].B}", "#{A[x ].B}"}, print_case{"#{A[ #{B} ].C}", "#{A[#{B}].C}"},
                      print_case{"#{A[].B}", "#{A[].B}"}, print_case{"#{A[b[0].c].D}", "#{A[b[0].c].D}"},
                      print_case{"#{Octopus.Action[Package A].Name}", "#{Octopus.Action[Package A].Name}"},
                      print_case{"#{calc 3*(2+{C})}", "#{3*2+C}"}, print_case{"#{calc {A} + 2}", "#{A+2}"},
                      print_case{"#{calc 2.50*A}", "#{2.5*A}"},
                      print_case{"#{ if X }a#{/if}", "#{if X}a#{/if}"},
                      print_case{"#{if X == \"lit\"}y#{/if}", "#{if X == \"lit\" }y#{/if}"},
                      print_case{"#{if X != Y}y#{/if}", "#{if X != Y }y#{/if}"},
                      print_case{"#{if A | ToLower == B}y#{/if}", "#{if A | ToLower == B }y#{/if}"},
                      print_case{"#{unless X}body#{/unless}", "#{if X}#{else}body#{/if}"},
                      print_case{"#{unless X}a#{else}b#{/unless}", "#{if X}b#{else}a#{/if}"},
                      print_case{"#{if A}a#{elseif B}b#{/if}", "#{if A}a#{else}#{if B}b#{/if}#{/if}"},
                      print_case{"#{ each  v  in  Coll }x#{/each}", "#{each v in Coll}x#{/each}"},
                      print_case{"#{if X}a##{b}#{/if}", "#{if X}a##{b}#{/if}"},
                      print_case{"a##{b}c", "a##{b}c"}, print_case{"plain #{A} text", "plain #{A} text"}));

// --- argument names (ParseTemplateAndGetArgumentNames)
// ---------------------------------------------------------------

std::set<std::string> names_of(const std::string& text) {
  const auto names = parse(text).argument_names();
  return {names.begin(), names.end()};
}

TEST(argument_names, dotted_segments_are_separate_and_string_indexes_are_not_names) {
  EXPECT_EQ(names_of("#{Octopus.Action[X].Name}"), (std::set<std::string>{"Octopus", "Action", "Name"}));
}

TEST(argument_names, substitution_indexes_options_and_calc_contribute) {
  EXPECT_EQ(names_of("#{A[#{B}]}"), (std::set<std::string>{"A", "B"}));
  const auto option_names = names_of("#{A | Format #{Opt}}");
  EXPECT_TRUE(option_names.count("A"));
  EXPECT_TRUE(option_names.count("Opt"));
  EXPECT_EQ(names_of("#{calc {X}+Y*2}"), (std::set<std::string>{"X", "Y"}));
}

TEST(argument_names, conditionals_include_branches_and_the_compared_literal) {
  EXPECT_EQ(names_of("#{if C == \"lit\"}#{T}#{else}#{E}#{/if}"),
            (std::set<std::string>{"C", "lit", "T", "E"}));
}

TEST(argument_names, each_reports_its_collection_but_not_its_body) {
  const auto names = names_of("#{each i in Coll}#{i.Name}#{Other}#{/each}");
  EXPECT_TRUE(names.count("Coll"));
  EXPECT_FALSE(names.count("i"));
  EXPECT_FALSE(names.count("Name"));
  EXPECT_FALSE(names.count("Other"));
}

TEST(argument_names, plain_options_and_escaped_text_are_not_names) {
  const auto names = names_of("#{A | Replace abc \"def\"} ##{ignored}");
  EXPECT_TRUE(names.count("A"));
  EXPECT_FALSE(names.count("abc"));
  EXPECT_FALSE(names.count("def"));
  EXPECT_FALSE(names.count("ignored"));
}

}  // namespace

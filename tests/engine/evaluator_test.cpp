// Evaluator: rendering behaviour from shared/reference/octostache-spec.md that the conformance vectors leave
// open (escaping, identifiers, indexers, nesting, recursion, JSON, conditionals, loops, calc, error modes),
// plus cuttle's own contracts: diagnostics, named resource limits, thread safety and custom filters.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "cuttle/engine.hpp"
#include "engine_helpers.hpp"

namespace {

namespace eng = cuttle::engine;
using cuttle::test::clean_output_is;
using cuttle::test::describe;
using cuttle::test::failed_with;
using cuttle::test::find_diagnostic;
using cuttle::test::has_diagnostic_mentioning;
using cuttle::test::make_variables;
using cuttle::test::missing_tokens_error;
using cuttle::test::output_is;
using cuttle::test::render;

// --- §3.1 text and `#` escaping ----------------------------------------------------------------------------

TEST(escaping, hash_runs_before_an_opener_follow_the_escape_table) {
  const auto vars = make_variables({{"foo", "Abc"}});
  EXPECT_TRUE(clean_output_is(render("##{foo}", vars), "#{foo}"));
  EXPECT_TRUE(clean_output_is(render("###{foo}", vars), "#Abc"));
  EXPECT_TRUE(clean_output_is(render("####{foo}", vars), "###{foo}"));
  EXPECT_TRUE(clean_output_is(render("#####{foo}", vars), "###Abc"));
}

TEST(escaping, hashes_not_followed_by_a_brace_are_kept_next_to_tokens) {
  const auto vars = make_variables({{"foo", "Abc"}});
  EXPECT_TRUE(clean_output_is(render("a # b ## c #{foo} ###### d", vars), "a # b ## c Abc ###### d"));
  EXPECT_TRUE(clean_output_is(render("a#b#{foo}", vars), "a#bAbc"));
}

TEST(escaping, trailing_hashes_are_text) {
  const auto vars = make_variables({{"foo", "Abc"}});
  EXPECT_TRUE(clean_output_is(render("#{foo}#", vars), "Abc#"));
  EXPECT_TRUE(clean_output_is(render("#{foo}##", vars), "Abc##"));
}

TEST(escaping, escaped_opener_inside_a_variable_value) {
  const auto vars = make_variables({{"V", "##{x}"}});
  EXPECT_TRUE(clean_output_is(render("#{V}", vars), "#{x}"));
}

TEST(escaping, echoed_text_inside_a_construct_re_escapes_openers) {
  // The condition's filter gives null, so the whole conditional is echoed in normalised form (§6.1);
  // its text token `a#{b}c` is echoed with `#{` rewritten as `##{` (§3.1).
  const auto r = render("#{if X | Nope}a##{b}c#{/if}");
  EXPECT_TRUE(output_is(r, "#{if X | Nope}a##{b}c#{/if}"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"X | Nope"}));
}

// --- §3.3 identifiers
// ----------------------------------------------------------------------------------------

TEST(identifiers, surrounding_whitespace_is_trimmed) {
  const auto vars = make_variables({{"Foo", "Bar"}});
  for (const char* text : {"#{ Foo }", "#{Foo }", "#{  Foo}", "#{\tFoo\n}", "#{\r\n Foo \t}"}) {
    EXPECT_TRUE(clean_output_is(render(text, vars), "Bar")) << text;
  }
}

TEST(identifiers, missing_name_is_echoed_trimmed) {
  const auto r = render("#{ Foo }");
  EXPECT_TRUE(output_is(r, "#{Foo}"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"#{Foo}"}));
}

TEST(identifiers, internal_whitespace_is_kept_exactly) {
  EXPECT_TRUE(
      clean_output_is(render("#{My  Var}", make_variables({{"My  Var", "two"}, {"My Var", "one"}})), "two"));
  EXPECT_TRUE(
      clean_output_is(render("#{My Var}", make_variables({{"My  Var", "two"}, {"My Var", "one"}})), "one"));

  const auto r = render("#{My  Var}", make_variables({{"My Var", "one"}}));
  EXPECT_TRUE(output_is(r, "#{My  Var}"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"#{My  Var}"}));
}

TEST(identifiers, punctuation_in_the_identifier_set_makes_plain_names) {
  for (const char* name : {"a-b", "a/b", "(abc)", "a~b", "@a", "a@b", "12", "-x", "a:b", "a_b"}) {
    eng::variables vars;
    vars.set(name, "value");
    EXPECT_TRUE(clean_output_is(render(std::string("#{") + name + "}", vars), "value")) << name;
  }
}

TEST(identifiers, unicode_letters_and_digits_are_identifier_characters) {
  const auto vars = make_variables({{"Größe", "L"}, {"名前", "N"}, {"x٣", "D"}});
  EXPECT_TRUE(clean_output_is(render("#{Größe}#{名前}#{x٣}", vars), "LND"));
}

TEST(identifiers, names_are_case_insensitive) {
  const auto vars = make_variables({{"foo", "Bar"}, {"Octopus.Action.Name", "Deploy"}});
  EXPECT_TRUE(clean_output_is(render("#{FOO}|#{fOo}", vars), "Bar|Bar"));
  EXPECT_TRUE(clean_output_is(render("#{octopus.ACTION.name}", vars), "Deploy"));
}

TEST(identifiers, values_are_case_sensitive) {
  const auto vars = make_variables({{"A", "abc"}});
  EXPECT_TRUE(clean_output_is(render(R"(#{if A == "ABC"}y#{else}n#{/if})", vars), "n"));
  EXPECT_TRUE(clean_output_is(render(R"(#{if A == "abc"}y#{else}n#{/if})", vars), "y"));
}

TEST(identifiers, keyword_rule_makes_lower_case_in_between_spaces_a_parse_error) {
  const auto vars = make_variables({{"Tea", "T"}, {"Cup", "C"}});
  const auto r = render("#{Tea} #{Tea in Cup}", vars);
  EXPECT_TRUE(output_is(r, "#{Tea} #{Tea in Cup}"));
  EXPECT_NE(r.octostache_error, "");
}

TEST(identifiers, keyword_rule_needs_lower_case_and_a_following_space) {
  EXPECT_TRUE(clean_output_is(render("#{Foo in}", make_variables({{"Foo in", "v"}})), "v"));
  EXPECT_TRUE(clean_output_is(render("#{Tea IN Cup}", make_variables({{"Tea IN Cup", "v"}})), "v"));
  EXPECT_TRUE(clean_output_is(render("#{Tea inCup}", make_variables({{"Tea inCup", "v"}})), "v"));
}

TEST(identifiers, dots_absorb_surrounding_whitespace_and_indexers_may_follow_whitespace) {
  const auto vars = make_variables({{"Foo.Bar", "dot"}, {"Foo[x]", "idx"}});
  EXPECT_TRUE(clean_output_is(render("#{Foo . Bar}", vars), "dot"));
  EXPECT_TRUE(clean_output_is(render("#{Foo [x]}", vars), "idx"));
}

TEST(identifiers, dangling_dots_are_parse_errors) {
  const auto vars = make_variables({{"a", "A"}, {"a.b", "B"}});
  for (const char* text : {"#{a.}", "#{a..b}", "#{a.[x]}"}) {
    const auto r = render(text, vars);
    EXPECT_TRUE(output_is(r, text));
    EXPECT_NE(r.octostache_error, "") << text;
  }
}

// --- §3.4 / §5.2 indexers
// --------------------------------------------------------------------------------------

TEST(indexers, index_keys_are_case_insensitive) {
  const auto vars = make_variables({{"Octopus.Action[Package A].Name", "A"}});
  EXPECT_TRUE(clean_output_is(render("#{Octopus.Action[package a].Name}", vars), "A"));
  EXPECT_TRUE(clean_output_is(render("#{octopus.action[PACKAGE A].name}", vars), "A"));
}

TEST(indexers, a_node_reached_through_an_index_reads_as_its_key) {
  const auto vars = make_variables({{"Octopus.Action[Package A].Name", "A"}});
  EXPECT_TRUE(clean_output_is(render("#{Octopus.Action[Package A]}", vars), "Package A"));
}

TEST(indexers, partial_paths_are_not_values) {
  const auto r = render("#{Octopus.Action}", make_variables({{"Octopus.Action[A].Name", "A"}}));
  EXPECT_TRUE(output_is(r, "#{Octopus.Action}"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"#{Octopus.Action}"}));
}

TEST(indexers, leading_index_whitespace_is_dropped_and_trailing_whitespace_kept) {
  const auto vars = make_variables({{"X[A ].N", "1"}});
  EXPECT_TRUE(clean_output_is(render("#{X[ A ].N}", vars), "1"));
  EXPECT_TRUE(clean_output_is(render("#{X[A ].N}", vars), "1"));

  const auto r = render("#{X[A].N}", vars);
  EXPECT_TRUE(output_is(r, "#{X[A].N}"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"#{X[A].N}"}));
}

TEST(indexers, wildcard_takes_the_first_inserted_index) {
  const auto vars = make_variables({{"X[b].N", "2"}, {"X[a].N", "1"}, {"X[c].N", "3"}});
  EXPECT_TRUE(clean_output_is(render("#{X[*].N}", vars), "2"));
}

TEST(indexers, wildcard_without_indexed_children_is_an_ordinary_key) {
  // `*` is then looked up as a JSON property; a missing property of a JSON object reads as "" (§5.2).
  EXPECT_TRUE(clean_output_is(render("<#{J[*]}>", make_variables({{"J", R"({"a": 1})"}})), "<>"));
  EXPECT_TRUE(clean_output_is(render("#{J[*]}", make_variables({{"J", R"({"*": "star"})"}})), "star"));
}

TEST(indexers, empty_index_is_a_valid_key) {
  EXPECT_TRUE(clean_output_is(render("#{A[].B}", make_variables({{"A[].B", "x"}})), "x"));
}

TEST(indexers, nested_brackets_are_part_of_the_index) {
  EXPECT_TRUE(clean_output_is(render("#{A[b[0].c].D}", make_variables({{"A[b[0].c].D", "x"}})), "x"));
}

TEST(indexers, substitution_index_uses_the_evaluated_value) {
  const auto vars =
      make_variables({{"Octopus.Action[Deploy].Name", "Done"}, {"Step", "#{Other}"}, {"Other", "deploy"}});
  EXPECT_TRUE(clean_output_is(render("#{Octopus.Action[#{Step}].Name}", vars), "Done"));
  EXPECT_TRUE(clean_output_is(render("#{Octopus.Action[ #{Step} ].Name}", vars), "Done"));
}

TEST(indexers, unresolvable_substitution_index_echoes_the_token) {
  const auto r =
      render("#{Octopus.Action[#{Step}].Name}", make_variables({{"Octopus.Action[Deploy].Name", "Done"}}));
  EXPECT_TRUE(output_is(r, "#{Octopus.Action[#{Step}].Name}"));
  EXPECT_NE(r.octostache_error, "");
}

// --- §5.1 nested references
// ------------------------------------------------------------------------------------

TEST(nested_references, values_are_evaluated_as_templates) {
  const auto vars = make_variables({{"A", "#{B}!"}, {"B", "#{C | ToUpper}"}, {"C", "c"}});
  EXPECT_TRUE(clean_output_is(render("#{A}", vars), "C!"));
}

TEST(nested_references, a_missing_nested_reference_is_echoed_and_reported) {
  const auto vars = make_variables({{"Foo", "#{Bar}"}});
  const auto r = render("#{Foo}", vars);
  EXPECT_TRUE(output_is(r, "#{Bar}"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"#{Bar}"}));

  // A filter then runs on the echoed text.
  EXPECT_TRUE(output_is(render("#{Foo | ToUpper}", vars), "#{BAR}"));
}

TEST(nested_references, a_nested_null_marker_does_not_make_the_result_null) {
  const auto r = render("#{Foo}", make_variables({{"Foo", "#{ | null}"}}));
  EXPECT_TRUE(output_is(r, "#{ | null}"));
}

TEST(nested_references, a_value_that_does_not_parse_is_used_raw) {
  EXPECT_TRUE(output_is(render("#{Foo}", make_variables({{"Foo", "x #{Broken"}})), "x #{Broken"));
}

TEST(nested_references, a_changed_value_is_seen_by_the_next_render) {
  eng::variables vars;
  vars.set("A", "1");
  const auto tpl = eng::compiled_template::parse("#{A}");
  EXPECT_TRUE(clean_output_is(tpl.render(vars), "1"));
  vars.set("a", "2");
  EXPECT_TRUE(clean_output_is(tpl.render(vars), "2"));
}

// --- §5.5 recursion
// --------------------------------------------------------------------------------------------

TEST(recursion, a_cycle_fails_with_the_octostache_message_and_chain) {
  const auto vars =
      make_variables({{"Foo", "#{Fox}"}, {"Fox", "#{Fax}"}, {"Fax", "#{Fix}"}, {"Fix", "#{Foo}"}});
  const auto r = render("#{Foo}", vars);
  ASSERT_TRUE(failed_with(r, eng::error_code::recursive_definition));
  EXPECT_EQ(
      find_diagnostic(r.diagnostics, eng::error_code::recursive_definition)->message,
      "An attempt to parse the variable symbol \"Foo\" appears to have resulted in a self referencing loop "
      "(Foo -> Fox -> Fax -> Fix -> Foo). Ensure that recursive loops do not exist in the variable values.");
}

TEST(recursion, a_cycle_inside_a_conditional_or_loop_also_fails) {
  const auto vars = make_variables({{"Foo", "#{Foo}"}, {"L", "a,b"}});
  EXPECT_TRUE(failed_with(render("#{if Foo}x#{/if}", vars), eng::error_code::recursive_definition));
  EXPECT_TRUE(
      failed_with(render("#{each i in L}#{Foo}#{/each}", vars), eng::error_code::recursive_definition));
}

// --- §10 JSON values
// --------------------------------------------------------------------------------------------

TEST(json_values, objects_are_walked_by_property) {
  const auto vars = make_variables({{"J", R"({"Foo": {"Bar": "11"}, "A": [1, 2, {"b": "c"}]})"}});
  EXPECT_TRUE(clean_output_is(render("#{J.Foo.Bar}", vars), "11"));
  EXPECT_TRUE(clean_output_is(render("#{J.Foo}", vars), R"({"Bar":"11"})"));
  EXPECT_TRUE(clean_output_is(render("#{J.A}", vars), R"([1,2,{"b":"c"}])"));
}

TEST(json_values, arrays_are_indexed_by_integer_steps) {
  const auto vars = make_variables({{"J", R"([{"Name": "a"}, {"Name": "b"}])"}});
  EXPECT_TRUE(clean_output_is(render("#{J[1].Name}", vars), "b"));
  EXPECT_TRUE(clean_output_is(render("#{J.1.Name}", vars), "b"));
  EXPECT_TRUE(clean_output_is(render("<#{J[5]}>", vars), "<>"));
}

TEST(json_values, a_non_integer_step_on_an_array_is_not_found) {
  const auto r = render("#{J.x}", make_variables({{"J", "[1, 2]"}}));
  EXPECT_TRUE(output_is(r, "#{J.x}"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"#{J.x}"}));
}

TEST(json_values, missing_or_null_properties_read_as_empty) {
  const auto vars = make_variables({{"J", R"({"Foo": "1", "N": null})"}});
  EXPECT_TRUE(clean_output_is(render("<#{J.Nope}>", vars), "<>"));
  EXPECT_TRUE(clean_output_is(render("<#{J.N}>", vars), "<>"));
  // Property names are case-sensitive, although variable names are not.
  EXPECT_TRUE(clean_output_is(render("<#{J.foo}>", vars), "<>"));
}

TEST(json_values, primitives_use_newtonsoft_string_forms) {
  const auto vars =
      make_variables({{"J", R"({"T": true, "F": false, "I": 12, "D": 15.21, "One": 1.0, "Big": 1e20})"}});
  EXPECT_TRUE(clean_output_is(render("#{J.T}/#{J.F}", vars), "True/False"));
  EXPECT_TRUE(clean_output_is(render("#{J.I} #{J.D}", vars), "12 15.21"));
  EXPECT_TRUE(clean_output_is(render("#{J.One} #{J.Big}", vars), "1 1E+20"));
}

TEST(json_values, whole_value_is_the_raw_text) {
  EXPECT_TRUE(clean_output_is(render("#{J}", make_variables({{"J", R"({ "a" : 1 })"}})), R"({ "a" : 1 })"));
}

TEST(json_values, negative_array_index_is_an_invalid_operation) {
  EXPECT_TRUE(
      failed_with(render("#{J[-1]}", make_variables({{"J", "[1, 2]"}})), eng::error_code::invalid_operation));
}

TEST(json_values, top_level_scalars_are_not_walked) {
  const auto r = render("#{J.x}", make_variables({{"J", "12"}}));
  EXPECT_TRUE(output_is(r, "#{J.x}"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"#{J.x}"}));
}

TEST(json_values, lenient_reader_accepts_unquoted_names_single_quotes_and_comments) {
  EXPECT_TRUE(clean_output_is(render("#{J.a}", make_variables({{"J", "{a: 1}"}})), "1"));
  EXPECT_TRUE(clean_output_is(render("#{J.a}", make_variables({{"J", "{'a': 'single'}"}})), "single"));
  EXPECT_TRUE(clean_output_is(render("#{J.a}", make_variables({{"J", "{/* c */ \"a\": 2}"}})), "2"));
}

TEST(json_values, trailing_content_makes_the_json_unusable) {
  const auto r = render("#{J.a}", make_variables({{"J", "{a:1}x"}}));
  EXPECT_TRUE(output_is(r, "#{J.a}"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"#{J.a}"}));
}

// --- §6 conditionals
// ---------------------------------------------------------------------------------------------

struct truthiness_case {
  const char* value;
  bool truthy;
};

void PrintTo(const truthiness_case& c, std::ostream* os) {
  *os << ::testing::PrintToString(std::string(c.value)) << (c.truthy ? " is truthy" : " is falsy");
}

class truthiness : public ::testing::TestWithParam<truthiness_case> {};

TEST_P(truthiness, matches_the_octostache_table) {
  const auto& c = GetParam();
  EXPECT_EQ(eng::is_truthy(c.value), c.truthy);
  const auto vars = make_variables({{"V", c.value}});
  EXPECT_TRUE(clean_output_is(render("#{if V}T#{else}F#{/if}", vars), c.truthy ? "T" : "F"));
  EXPECT_TRUE(clean_output_is(render("#{unless V}F#{else}T#{/unless}", vars), c.truthy ? "T" : "F"));
  EXPECT_EQ(eng::evaluate_truthy("#{V}", vars), c.truthy);
}

INSTANTIATE_TEST_SUITE_P(table, truthiness,
                         ::testing::Values(truthiness_case{"", false}, truthiness_case{"0", false},
                                           truthiness_case{"no", false}, truthiness_case{"NO", false},
                                           truthiness_case{" no ", false}, truthiness_case{"false", false},
                                           truthiness_case{"FALSE", false}, truthiness_case{"False ", false},
                                           truthiness_case{" false\t", false}, truthiness_case{"off", true},
                                           truthiness_case{"null", true}, truthiness_case{"N", true},
                                           truthiness_case{"F", true}, truthiness_case{"1", true},
                                           truthiness_case{"0.0", true}, truthiness_case{" 0", true},
                                           truthiness_case{" ", true}, truthiness_case{"true", true},
                                           truthiness_case{"nope", true}, truthiness_case{"falsey", true}));

TEST(conditionals, missing_variables_are_falsy_and_equal) {
  EXPECT_TRUE(clean_output_is(render("#{if Nope}T#{else}F#{/if}"), "F"));
  EXPECT_TRUE(clean_output_is(render("#{if X == Y}eq#{/if}"), "eq"));
  EXPECT_TRUE(clean_output_is(render(R"(#{if X == ""}empty#{/if})"), "empty"));
}

TEST(conditionals, a_value_with_a_missing_reference_is_truthy_and_reports_it) {
  const auto r = render("#{if Foo}T#{else}F#{/if}", make_variables({{"Foo", "#{Missing}"}}));
  EXPECT_TRUE(output_is(r, "T"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"#{Missing}"}));
}

TEST(conditionals, comparisons_are_exact) {
  const auto vars = make_variables({{"A", " abc"}, {"H", "a#b"}});
  EXPECT_TRUE(clean_output_is(render(R"(#{if A == " abc"}y#{else}n#{/if})", vars), "y"));
  EXPECT_TRUE(clean_output_is(render(R"(#{if A == "abc"}y#{else}n#{/if})", vars), "n"));
  EXPECT_TRUE(clean_output_is(render(R"(#{if A != "abc"}y#{else}n#{/if})", vars), "y"));
  EXPECT_TRUE(clean_output_is(render(R"(#{if H == \"a#b\"}y#{else}n#{/if})", vars), "y"));
}

TEST(conditionals, filters_work_on_both_sides) {
  const auto vars = make_variables({{"A", "ABC"}, {"B", " abc "}, {"X", "X"}});
  EXPECT_TRUE(clean_output_is(render("#{if A | ToLower == B | Trim}y#{else}n#{/if}", vars), "y"));
  EXPECT_TRUE(clean_output_is(render(R"(#{if "x" == X | ToLower}y#{else}n#{/if})", vars), "y"));
  EXPECT_TRUE(clean_output_is(render("#{if A | ToLower != B}y#{else}n#{/if}", vars), "y"));
}

TEST(conditionals, a_null_filter_result_echoes_the_whole_conditional) {
  const auto vars = make_variables({{"A", "a"}});
  auto r = render(R"(#{if A | Nope == "x"}y#{/if})", vars);
  EXPECT_TRUE(output_is(r, R"(#{if A | Nope == "x" }y#{/if})"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"A | Nope"}));

  r = render("#{if A == B | Nope}y#{/if}", vars);
  EXPECT_TRUE(output_is(r, "#{if A == B | Nope }y#{/if}"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"B | Nope"}));

  r = render("#{unless A | Nope}u#{/unless}", vars);
  EXPECT_TRUE(output_is(r, "#{if A | Nope}#{else}u#{/if}"));
}

TEST(conditionals, elseif_chains_take_the_first_true_branch) {
  const char* text = "#{if A}a#{elseif B}b#{elseif C}c#{else}z#{/if}";
  EXPECT_TRUE(
      clean_output_is(render(text, make_variables({{"A", "true"}, {"B", "true"}, {"C", "true"}})), "a"));
  EXPECT_TRUE(
      clean_output_is(render(text, make_variables({{"A", "false"}, {"B", "true"}, {"C", "true"}})), "b"));
  EXPECT_TRUE(clean_output_is(render(text, make_variables({{"A", "0"}, {"B", "no"}, {"C", "1"}})), "c"));
  EXPECT_TRUE(clean_output_is(render(text, make_variables({{"A", "0"}, {"B", "no"}, {"C", ""}})), "z"));
}

TEST(conditionals, unless_with_else_swaps_the_branches) {
  const char* text = "#{unless A}u#{else}e#{/unless}";
  EXPECT_TRUE(clean_output_is(render(text, make_variables({{"A", "true"}})), "e"));
  EXPECT_TRUE(clean_output_is(render(text, make_variables({{"A", "false"}})), "u"));
}

TEST(conditionals, opening_keyword_is_case_insensitive_but_closing_tags_are_exact) {
  const auto vars = make_variables({{"T", "true"}});
  EXPECT_TRUE(clean_output_is(render("#{IF T}y#{/if}", vars), "y"));
  EXPECT_TRUE(clean_output_is(render("#{ If T}y#{/if}", vars), "y"));
  EXPECT_TRUE(clean_output_is(render("#{UNLESS T}y#{else}n#{/unless}", vars), "n"));

  const auto r = render("#{if T}y#{/IF}", vars);
  EXPECT_TRUE(output_is(r, "#{if T}y#{/IF}"));
  EXPECT_NE(r.octostache_error, "");
}

TEST(conditionals, unterminated_if_is_a_lookup_of_a_variable_named_if_x) {
  auto r = render("#{if X}hello #{Name}", make_variables({{"Name", "N"}}));
  EXPECT_TRUE(output_is(r, "#{if X}hello N"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"#{if X}"}));

  EXPECT_TRUE(clean_output_is(render("#{if X}hello", make_variables({{"if X", "v"}})), "vhello"));
}

TEST(conditionals, else_outside_a_body_or_with_spaces_is_a_variable) {
  auto r = render("a#{else}b");
  EXPECT_TRUE(output_is(r, "a#{else}b"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"#{else}"}));

  const auto vars = make_variables({{"else", "E"}, {"T", "true"}});
  EXPECT_TRUE(clean_output_is(render("a#{else}b", vars), "aEb"));
  EXPECT_TRUE(clean_output_is(render("#{if T}a#{ else}b#{/if}", vars), "aEb"));
  EXPECT_TRUE(clean_output_is(render("#{if T}a#{else }b#{/if}", vars), "aEb"));
}

TEST(conditionals, misspelt_elseif_inside_an_if_body_is_a_substitution) {
  const auto r = render("#{if T}a#{ElseIf X}b#{/if}", make_variables({{"T", "true"}}));
  EXPECT_TRUE(output_is(r, "a#{ElseIf X}b"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"#{ElseIf X}"}));
}

TEST(conditionals, two_quoted_literals_do_not_parse) {
  const auto r = render(R"(#{if "a" == "a"}y#{/if})");
  EXPECT_TRUE(output_is(r, R"(#{if "a" == "a"}y#{/if})"));
  EXPECT_NE(r.octostache_error, "");
}

// --- §7 iteration
// --------------------------------------------------------------------------------------------------

TEST(iteration, plain_values_split_on_commas_without_trimming) {
  EXPECT_TRUE(clean_output_is(render("#{each x in L}[#{x}]#{/each}", make_variables({{"L", "a, b,,c,"}})),
                              "[a][ b][][c][]"));
}

TEST(iteration, an_empty_value_gives_one_iteration) {
  EXPECT_TRUE(clean_output_is(render("#{each x in L}[#{x}]#{/each}", make_variables({{"L", ""}})), "[]"));
}

TEST(iteration, a_missing_collection_gives_no_iterations_and_no_error) {
  EXPECT_TRUE(clean_output_is(render("x#{each i in Nope}[#{i}]#{/each}y"), "xy"));
}

TEST(iteration, indexed_collections_iterate_in_insertion_order) {
  const auto vars = make_variables({{"A[z].N", "1"}, {"A[a].N", "2"}, {"A[m].N", "3"}});
  EXPECT_TRUE(clean_output_is(render("#{each i in A}#{i}=#{i.N};#{/each}", vars), "z=1;a=2;m=3;"));
}

TEST(iteration, a_collection_with_its_own_value_iterates_that_value) {
  const auto vars = make_variables({{"X", "p,q"}, {"X[a].b", "1"}});
  EXPECT_TRUE(clean_output_is(render("#{each i in X}#{i};#{/each}", vars), "p;q;"));
}

TEST(iteration, an_explicit_item_value_replaces_the_index_key) {
  const auto vars = make_variables({{"X[a].b", "1"}, {"X[a]", "Alpha"}, {"X[c].b", "2"}});
  EXPECT_TRUE(clean_output_is(render("#{each i in X}#{i};#{/each}", vars), "Alpha;c;"));
}

TEST(iteration, json_arrays_iterate_their_elements) {
  const auto vars = make_variables({{"J", R"([1, "two", {"x": 1}, [2, 3], true])"}});
  EXPECT_TRUE(
      clean_output_is(render("#{each e in J}<#{e}>#{/each}", vars), R"(<1><two><{"x":1}><[2,3]><True>)"));
  EXPECT_TRUE(clean_output_is(render("#{each e in J}#{e.Name};#{/each}",
                                     make_variables({{"J", R"([{"Name": "a"}, {"Name": "b"}])"}})),
                              "a;b;"));
}

TEST(iteration, json_objects_iterate_properties_with_key_and_value) {
  const auto vars = make_variables({{"J", R"({"b": 1, "a": "x", "c": {"d": true}})"}});
  EXPECT_TRUE(clean_output_is(render("#{each p in J}#{p}:#{p.Key}=#{p.Value};#{/each}", vars),
                              R"(b:b=1;a:a=x;c:c={"d":true};)"));
}

TEST(iteration, special_variables_give_index_first_and_last) {
  const char* text =
      "#{each x in L}#{Octopus.Template.Each.Index}#{Octopus.Template.Each.First}"
      "#{Octopus.Template.Each.Last} #{/each}";
  EXPECT_TRUE(
      clean_output_is(render(text, make_variables({{"L", "a,b,c"}})), "0TrueFalse 1FalseFalse 2FalseTrue "));
  EXPECT_TRUE(clean_output_is(render(text, make_variables({{"L", "only"}})), "0TrueTrue "));
}

TEST(iteration, inner_loops_shadow_outer_specials) {
  const auto vars = make_variables({{"L1", "a,b"}, {"L2", "x,y"}});
  EXPECT_TRUE(clean_output_is(
      render("#{each o in L1}#{each i in L2}#{o}#{i}#{Octopus.Template.Each.Index},#{/each}#{/each}", vars),
      "ax0,ay1,bx0,by1,"));
}

TEST(iteration, loop_variables_shadow_globals_only_inside_the_body) {
  const auto vars = make_variables({{"x", "G"}, {"L", "1,2"}});
  EXPECT_TRUE(clean_output_is(render("#{each x in L}#{x}#{/each}#{x}", vars), "12G"));
}

TEST(iteration, loop_variable_names_may_contain_spaces) {
  EXPECT_TRUE(clean_output_is(
      render("#{each my item in L}#{my item};#{/each}", make_variables({{"L", "a,b"}})), "a;b;"));
}

TEST(iteration, a_failed_property_lookup_retries_the_whole_path_globally) {
  const auto vars = make_variables({{"v.Prop", "global"}, {"L", "a"}});
  EXPECT_TRUE(clean_output_is(render("#{each v in L}#{v.Prop}#{/each}", vars), "global"));
}

TEST(iteration, missing_tokens_echo_per_iteration_and_are_reported_once) {
  const auto r = render("#{each i in L}#{i.Size}#{/each}", make_variables({{"L", "a,b"}}));
  EXPECT_TRUE(output_is(r, "#{i.Size}#{i.Size}"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"#{i.Size}"}));
}

// The evaluator reuses a finished loop's local tree and makes a value's items once per render: neither
// may leak a loop variable, a counter or a stale item list into a later loop.
TEST(iteration, a_later_loop_sees_nothing_of_an_earlier_one) {
  const auto vars = make_variables({{"L", "a,b"}, {"M", "x"}});
  const auto r =
      render("#{each a in L}#{a}#{/each};#{each b in M}#{a}#{b}#{Octopus.Template.Each.Last}#{/each}", vars);
  EXPECT_TRUE(output_is(r, "ab;#{a}xTrue"));
  EXPECT_TRUE(output_is(render("#{each a in L}#{/each}#{Octopus.Template.Each.Index}|#{each a in M}"
                               "#{Octopus.Template.Each.Index}#{/each}",
                               vars),
                        "#{Octopus.Template.Each.Index}|0"));
}

TEST(iteration, loops_over_a_loop_counter_and_repeated_loops_over_one_value) {
  const auto vars = make_variables({{"L", "a,b,c"}});
  // The counter's value changes between executions of the inner loop; its items must follow it.
  EXPECT_TRUE(clean_output_is(render("#{each x in L}[#{each d in Octopus.Template.Each.Index}#{d}#{/each}]"
                                     "#{/each}",
                                     vars),
                              "[0][1][2]"));
  EXPECT_TRUE(clean_output_is(render("#{each x in L}#{x}#{/each}#{each y in L}#{y}#{/each}#{each x in L}"
                                     "#{each y in L}#{x}#{y}#{/each}#{/each}",
                                     vars),
                              "abcabcaaabacbabbbccacbcc"));
}

TEST(iteration, a_loop_variable_named_octopus_is_an_invalid_operation) {
  const auto vars = make_variables({{"L", "a"}});
  EXPECT_TRUE(failed_with(render("#{each octopus in L}x#{/each}", vars), eng::error_code::invalid_operation));
  EXPECT_TRUE(failed_with(render("#{each Octopus in L}x#{/each}", vars), eng::error_code::invalid_operation));
}

// --- §8 calc
// ------------------------------------------------------------------------------------------------------

TEST(calc, precedence_and_left_associativity) {
  EXPECT_TRUE(clean_output_is(render("#{calc 2+3*4}"), "14"));
  EXPECT_TRUE(clean_output_is(render("#{calc (2+3)*4}"), "20"));
  EXPECT_TRUE(clean_output_is(render("#{calc 10-4-3}"), "3"));
  EXPECT_TRUE(clean_output_is(render("#{calc 8/4/2}"), "1"));
  EXPECT_TRUE(clean_output_is(render("#{calc 2*3-4*5}"), "-14"));
  EXPECT_TRUE(clean_output_is(render("#{calc 2 + 3 * 4}"), "14"));
  EXPECT_TRUE(clean_output_is(render("#{CALC 1+1}"), "2"));
}

TEST(calc, braces_end_a_variable_name_before_an_operator) {
  const auto vars = make_variables({{"A", "5"}});
  EXPECT_TRUE(clean_output_is(render("#{calc {A}-2}", vars), "3"));
  EXPECT_TRUE(clean_output_is(render("#{calc { A }*2}", vars), "10"));

  // Without braces `A-2` is one variable name; a null calc echoes without `calc` and records no error.
  const auto r = render("#{calc A-2}", vars);
  EXPECT_TRUE(output_is(r, "#{A-2}"));
  EXPECT_EQ(r.octostache_error, "");
}

TEST(calc, missing_or_non_numeric_variables_echo_without_error) {
  auto r = render("#{calc C+2}");
  EXPECT_TRUE(output_is(r, "#{C+2}"));
  EXPECT_EQ(r.octostache_error, "");

  r = render("#{calc {A}+1}", make_variables({{"A", "abc"}}));
  EXPECT_TRUE(output_is(r, "#{A+1}"));
  EXPECT_EQ(r.octostache_error, "");
}

TEST(calc, echo_drops_spaces_parentheses_and_braces) {
  // `)` is a name character (spec §3.8), so the variable before it needs braces; §5.4's `3*(2+C)` example
  // cannot parse as written.
  EXPECT_TRUE(output_is(render("#{calc 3*(2+{C})}"), "#{3*2+C}"));
  EXPECT_TRUE(output_is(render("#{calc {C} * 2}"), "#{C*2}"));
}

TEST(calc, there_is_no_unary_minus) {
  const auto r = render("#{calc -1}");
  EXPECT_TRUE(output_is(r, "#{-1}"));
  EXPECT_EQ(r.octostache_error, "");
}

TEST(calc, variables_parse_like_dotnet_double) {
  EXPECT_TRUE(clean_output_is(render("#{calc {A}*2}", make_variables({{"A", " 5 "}})), "10"));
  EXPECT_TRUE(clean_output_is(render("#{calc {A}+1}", make_variables({{"A", "1,000"}})), "1001"));
  EXPECT_TRUE(clean_output_is(render("#{calc {A}+1}", make_variables({{"A", "1e3"}})), "1001"));
  EXPECT_TRUE(clean_output_is(render("#{calc {A}+1}", make_variables({{"A", "-2.5"}})), "-1.5"));
}

TEST(calc, results_use_shortest_round_trip_formatting) {
  EXPECT_TRUE(clean_output_is(render("#{calc 2/7}"), "0.2857142857142857"));
  EXPECT_TRUE(clean_output_is(render("#{calc 0.1+0.2}"), "0.30000000000000004"));
  EXPECT_TRUE(clean_output_is(render("#{calc 100000000000000}"), "100000000000000"));
  EXPECT_TRUE(clean_output_is(render("#{calc 1000000000000000}"), "1E+15"));
  EXPECT_TRUE(clean_output_is(render("#{calc 123456789012345678*1}"), "1.2345678901234568E+17"));
  EXPECT_TRUE(clean_output_is(render("#{calc 1/10000}"), "0.0001"));
  EXPECT_TRUE(clean_output_is(render("#{calc 1/100000}"), "1E-05"));
  EXPECT_TRUE(clean_output_is(render("#{calc 0*(0-1)}"), "-0"));
}

TEST(calc, division_by_zero_uses_invariant_culture_symbols) {
  EXPECT_TRUE(clean_output_is(render("#{calc 1/0}"), "Infinity"));
  EXPECT_TRUE(clean_output_is(render("#{calc 0-1/0}"), "-Infinity"));
  EXPECT_TRUE(clean_output_is(render("#{calc 0/0}"), "NaN"));
}

TEST(calc, whitespace_rules_around_parentheses) {
  // Whitespace after `(` turns the number into a (missing) variable name; before `)` it is a parse error.
  EXPECT_TRUE(output_is(render("#{calc ( 3+2)}"), "#{3+2}"));
  const auto r = render("#{calc (3+2 )}");
  EXPECT_TRUE(output_is(r, "#{calc (3+2 )}"));
  EXPECT_NE(r.octostache_error, "");
}

TEST(calc, a_number_followed_by_junk_falls_back_to_a_variable_name) {
  // `2B` does not parse as calc, so the token is a substitution of the variable named "calc 2B".
  const auto r = render("#{calc 2B}");
  EXPECT_TRUE(output_is(r, "#{calc 2B}"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"#{calc 2B}"}));
}

TEST(calc, works_inside_variable_values) {
  EXPECT_TRUE(clean_output_is(render("#{V}", make_variables({{"V", "#{calc 1+1}"}})), "2"));
}

// --- §2 halting and continue modes
// -------------------------------------------------------------------------------

TEST(error_modes, halting_mode_returns_the_text_verbatim_with_a_positioned_warning) {
  const std::string text = "Hello #{Name}\n  #{Broken";
  eng::parse_options popts;
  popts.source_name = "greeting.txt";
  const auto r = eng::evaluate(text, make_variables({{"Name", "N"}}), popts);
  EXPECT_TRUE(output_is(r, text));
  EXPECT_FALSE(r.failed);
  EXPECT_EQ(
      r.octostache_error.rfind(
          "Parsing failure: unexpected '#'; expected end of input (Line 2, Column 3); recently consumed: ",
          0),
      0u)
      << r.octostache_error;

  const auto* d = find_diagnostic(r.diagnostics, eng::error_code::parse_error);
  ASSERT_NE(d, nullptr) << describe(r);
  EXPECT_EQ(d->severity, eng::severity::warning);
  EXPECT_EQ(d->source, "greeting.txt");
  EXPECT_EQ(d->line, 2u);
  EXPECT_EQ(d->column, 3u);

  const auto tpl = eng::compiled_template::parse(text, popts);
  EXPECT_TRUE(tpl.parse_failed());
  EXPECT_NE(find_diagnostic(tpl.diagnostics(), eng::error_code::parse_error), nullptr);
}

TEST(error_modes, a_stray_closing_tag_fails_the_whole_template_in_halting_mode) {
  const auto r = render("#{Name}x#{/if}", make_variables({{"Name", "N"}}));
  EXPECT_TRUE(output_is(r, "#{Name}x#{/if}"));
  EXPECT_NE(r.octostache_error, "");
}

TEST(error_modes, continue_mode_keeps_unparseable_openers_as_text) {
  const auto vars = make_variables({{"Name", "N"}});
  EXPECT_TRUE(output_is(render("#{!} #{Name}", vars, /*halt_on_error=*/false), "#{!} N"));
  EXPECT_TRUE(output_is(render("x#{/if}#{Name}", vars, /*halt_on_error=*/false), "x#{/if}N"));
  EXPECT_FALSE(
      eng::compiled_template::parse("x#{/if}", {.source_name = "t", .halt_on_error = false}).parse_failed());
}

TEST(error_modes, continue_mode_unterminated_block_swallows_the_rest) {
  const auto vars = make_variables({{"Name", "N"}, {"L", "a,b"}});
  EXPECT_TRUE(
      output_is(render("#{Name}#{each x in L}#{x}", vars, /*halt_on_error=*/false), "N#{each x in L}#{x}"));
}

TEST(error_modes, text_without_an_opener_is_returned_unchanged) {
  for (const char* text : {"", "plain", "a##b", "# ## ###", "{}", "}#", "#"}) {
    EXPECT_TRUE(clean_output_is(render(text), text)) << text;
    EXPECT_TRUE(clean_output_is(render(text, {}, /*halt_on_error=*/false), text)) << text;
  }
}

// --- diagnostics
// -----------------------------------------------------------------------------------------------------

TEST(diagnostics, unresolved_variables_carry_source_position_and_fragment) {
  eng::parse_options popts;
  popts.source_name = "t.txt";
  const auto r = eng::evaluate("a\n  #{Missing}", eng::variables{}, popts);
  EXPECT_TRUE(output_is(r, "a\n  #{Missing}"));
  EXPECT_FALSE(r.failed);
  const auto* d = find_diagnostic(r.diagnostics, eng::error_code::unresolved_variable);
  ASSERT_NE(d, nullptr) << describe(r);
  EXPECT_EQ(d->severity, eng::severity::warning);
  EXPECT_EQ(d->source, "t.txt");
  EXPECT_EQ(d->offset, 4u);
  EXPECT_EQ(d->line, 2u);
  EXPECT_EQ(d->column, 3u);
  EXPECT_NE(d->fragment.find("Missing"), std::string::npos) << d->fragment;
}

TEST(diagnostics, missing_tokens_are_listed_once_in_order_of_first_occurrence) {
  const auto r = render("#{B}#{A}#{B}");
  EXPECT_TRUE(output_is(r, "#{B}#{A}#{B}"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"#{B}", "#{A}"}));
}

TEST(diagnostics, unknown_filters_are_reported_and_echoed) {
  const auto r = render("#{A | Nope 6}", make_variables({{"A", "x"}}));
  EXPECT_TRUE(output_is(r, R"(#{A | Nope "6"})"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({R"(#{A | Nope "6"})"}));
  EXPECT_NE(find_diagnostic(r.diagnostics, eng::error_code::unknown_filter), nullptr) << describe(r);
}

TEST(diagnostics, the_null_filter_gives_a_null_result) {
  const auto r = render("x#{ | null}y");
  EXPECT_FALSE(r.output.has_value()) << describe(r);
  EXPECT_FALSE(r.failed);
  EXPECT_NE(find_diagnostic(r.diagnostics, eng::error_code::null_result), nullptr) << describe(r);

  // Only the exact lower-case spelling as the outermost filter makes the result null (§9.8).
  EXPECT_TRUE(output_is(render("#{ | NULL}"), "#{ | NULL}"));
  EXPECT_TRUE(output_is(render("#{x | null | ToUpper}"), "#{x | null | ToUpper}"));
}

TEST(diagnostics, to_string_has_the_documented_shape) {
  eng::diagnostic d;
  d.code = eng::error_code::unresolved_variable;
  d.severity = eng::severity::warning;
  d.source = "t.txt";
  d.line = 2;
  d.column = 3;
  d.message = "m";
  EXPECT_EQ(d.to_string().rfind("t.txt:2:3: warning[E002]: m", 0), 0u) << d.to_string();
  d.code = eng::error_code::recursive_definition;
  d.severity = eng::severity::error;
  EXPECT_EQ(d.to_string().rfind("t.txt:2:3: error[E005]: m", 0), 0u) << d.to_string();
}

TEST(diagnostics, error_code_names_are_stable) {
  EXPECT_EQ(eng::error_code_count, 9);
  EXPECT_EQ(eng::error_code_name(eng::error_code::parse_error), "E001");
  EXPECT_EQ(eng::error_code_name(eng::error_code::unresolved_variable), "E002");
  EXPECT_EQ(eng::error_code_name(eng::error_code::limit_exceeded), "E006");
  EXPECT_EQ(eng::error_code_name(eng::error_code::null_result), "E009");
}

TEST(diagnostics, line_column_counts_bytes_from_one) {
  EXPECT_EQ(eng::line_column("abc", 0), std::make_pair(std::uint32_t{1}, std::uint32_t{1}));
  EXPECT_EQ(eng::line_column("abc", 2), std::make_pair(std::uint32_t{1}, std::uint32_t{3}));
  EXPECT_EQ(eng::line_column("a\nbc", 3), std::make_pair(std::uint32_t{2}, std::uint32_t{2}));
  EXPECT_EQ(eng::line_column("ab\n", 3), std::make_pair(std::uint32_t{2}, std::uint32_t{1}));
  EXPECT_EQ(eng::line_column("é\nx", 3), std::make_pair(std::uint32_t{2}, std::uint32_t{1}));
}

// --- limits (render_options / parse_options)
// ---------------------------------------------------------------------

std::string nested_ifs(int depth) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += "#{if A}";
  text += "x";
  for (int i = 0; i < depth; ++i) text += "#{/if}";
  return text;
}

/// Parse and render diagnostics together (a limit may be reported by either step).
std::vector<eng::diagnostic> all_diagnostics(const eng::compiled_template& tpl, const eng::render_result& r) {
  std::vector<eng::diagnostic> all = tpl.diagnostics();
  all.insert(all.end(), r.diagnostics.begin(), r.diagnostics.end());
  return all;
}

TEST(limits, nesting_within_the_limit_renders) {
  EXPECT_TRUE(clean_output_is(render(nested_ifs(50), make_variables({{"A", "true"}})), "x"));
}

TEST(limits, very_deep_nesting_hits_nesting_depth_without_crashing) {
  const auto vars = make_variables({{"A", "true"}});
  const auto tpl = eng::compiled_template::parse(nested_ifs(10000));
  const auto r = tpl.render(vars);
  const auto diags = all_diagnostics(tpl, r);
  EXPECT_TRUE(has_diagnostic_mentioning(diags, eng::error_code::limit_exceeded, "nesting_depth"));
  EXPECT_NE(cuttle::test::find_error(diags, eng::error_code::limit_exceeded), nullptr);
}

TEST(limits, nesting_depth_is_configurable) {
  eng::parse_options popts;
  popts.max_nesting_depth = 3;
  const auto tpl = eng::compiled_template::parse(nested_ifs(5), popts);
  const auto r = tpl.render(make_variables({{"A", "true"}}));
  EXPECT_TRUE(
      has_diagnostic_mentioning(all_diagnostics(tpl, r), eng::error_code::limit_exceeded, "nesting_depth"));

  const auto shallow = eng::compiled_template::parse(nested_ifs(2), popts);
  EXPECT_TRUE(clean_output_is(shallow.render(make_variables({{"A", "true"}})), "x"));
}

eng::variables reference_chain(int length) {
  eng::variables vars;
  for (int i = 0; i < length; ++i) {
    vars.set("V" + std::to_string(i),
             i + 1 < length ? "#{V" + std::to_string(i + 1) + "}" : std::string("end"));
  }
  return vars;
}

TEST(limits, a_long_reference_chain_never_crashes) {
  const auto r = render("#{V0}", reference_chain(1000));
  if (r.failed) {
    EXPECT_TRUE(has_diagnostic_mentioning(r.diagnostics, eng::error_code::limit_exceeded, "reference_depth"));
  } else {
    EXPECT_TRUE(clean_output_is(r, "end"));
  }
}

TEST(limits, reference_depth_is_enforced) {
  eng::render_options ropts;
  ropts.max_reference_depth = 10;
  EXPECT_TRUE(clean_output_is(render("#{V0}", reference_chain(5), true, ropts), "end"));

  const auto r = render("#{V0}", reference_chain(20), true, ropts);
  EXPECT_TRUE(failed_with(r, eng::error_code::limit_exceeded));
  EXPECT_TRUE(has_diagnostic_mentioning(r.diagnostics, eng::error_code::limit_exceeded, "reference_depth"));
}

std::string comma_list(int items) {
  std::string list;
  for (int i = 0; i < items; ++i) list += (i == 0 ? "" : ",") + std::to_string(i);
  return list;
}

TEST(limits, loop_iterations_are_counted) {
  const auto vars = make_variables({{"L", comma_list(1000)}});
  eng::render_options ropts;
  ropts.max_iterations = 10;
  const auto r = render("#{each x in L}#{x}#{/each}", vars, true, ropts);
  EXPECT_TRUE(failed_with(r, eng::error_code::limit_exceeded));
  EXPECT_TRUE(has_diagnostic_mentioning(r.diagnostics, eng::error_code::limit_exceeded, "loop_iterations"));

  ropts.max_iterations = 2000;
  const auto ok = render("#{each x in L}#{x}#{/each}", vars, true, ropts);
  EXPECT_FALSE(ok.failed) << describe(ok);
  ASSERT_TRUE(ok.output.has_value());
  EXPECT_EQ(ok.output->substr(0, 5), "01234");
}

// Top-level references are cached per render; a value that ran loops must still count every time.
TEST(limits, loops_inside_repeated_references_are_counted_each_time) {
  const auto vars = make_variables({{"L", "a,b"}, {"A", "#{each x in L}#{x}#{/each}"}});
  eng::render_options ropts;
  ropts.max_iterations = 5;
  EXPECT_TRUE(clean_output_is(render("#{A}#{A}", vars, true, ropts), "abab"));
  const auto r = render("#{A}#{A}#{A}", vars, true, ropts);
  EXPECT_TRUE(failed_with(r, eng::error_code::limit_exceeded)) << describe(r);
}

// ... and a value with a problem is not cached: every use renders it again (its diagnostic points into
// the value, once per place there).
TEST(diagnostics, a_repeated_reference_to_a_broken_value_renders_and_reports_it) {
  const auto vars = make_variables({{"A", "x#{Missing}"}});
  const auto r = render("#{A}\n#{A}", vars);
  EXPECT_TRUE(output_is(r, "x#{Missing}\nx#{Missing}"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"#{Missing}"}));
  ASSERT_EQ(r.diagnostics.size(), 1u) << describe(r);
  EXPECT_EQ(r.diagnostics[0].source, "variable 'A'");
}

TEST(limits, output_bytes_are_capped) {
  const auto vars = make_variables({{"L", comma_list(100)}, {"V", std::string(100, 'v')}});
  eng::render_options ropts;
  ropts.max_output_bytes = 1000;
  const auto r = render("#{each x in L}#{V}#{/each}", vars, true, ropts);
  EXPECT_TRUE(failed_with(r, eng::error_code::limit_exceeded));
  EXPECT_TRUE(has_diagnostic_mentioning(r.diagnostics, eng::error_code::limit_exceeded, "output_bytes"));

  ropts.max_output_bytes = 20000;
  const auto ok = render("#{each x in L}#{V}#{/each}", vars, true, ropts);
  EXPECT_TRUE(clean_output_is(ok, std::string(10000, 'v')));
}

TEST(limits, template_bytes_are_capped) {
  eng::parse_options popts;
  popts.max_template_bytes = 10;
  const auto tpl = eng::compiled_template::parse("#{A}" + std::string(100, 'x'), popts);
  const auto r = tpl.render(make_variables({{"A", "a"}}));
  const auto diags = all_diagnostics(tpl, r);
  EXPECT_TRUE(has_diagnostic_mentioning(diags, eng::error_code::limit_exceeded, "template_bytes"));
  EXPECT_NE(cuttle::test::find_error(diags, eng::error_code::limit_exceeded), nullptr);
}

// Slow (label `slow`, run with `ctest -C slow`): large inputs that would expose quadratic behaviour.
TEST(limits_slow, a_long_loop_and_a_large_template_render_completely) {
  const auto vars = make_variables({{"L", comma_list(200000)}, {"Name", "n"}});
  const auto loop = render("#{each x in L}#{x};#{/each}", vars);
  ASSERT_TRUE(loop.output.has_value()) << describe(loop);
  std::string expected;
  for (int i = 0; i < 200000; ++i) expected += std::to_string(i) + ";";
  EXPECT_EQ(*loop.output, expected);

  std::string text;
  std::string big_expected;
  for (int i = 0; i < 200000; ++i) {
    text += "line #{Name} ##{escaped}\n";
    big_expected += "line n #{escaped}\n";
  }
  EXPECT_TRUE(clean_output_is(render(text, vars), big_expected));
}

// --- concurrency
// --------------------------------------------------------------------------------------------------

TEST(concurrency, one_template_renders_from_several_threads) {
  const auto tpl = eng::compiled_template::parse(
      "#{each x in L}#{x | ToUpper}-#{Name}#{if Flag}!#{/if};#{/each}#{Missing}#{calc {N}*2}");
  std::vector<eng::variables> sets;
  std::vector<std::string> expected;
  for (int t = 0; t < 4; ++t) {
    const std::string id = std::to_string(t);
    sets.push_back(make_variables({{"L", "a" + id + ",b" + id},
                                   {"Name", "#{Inner}"},
                                   {"Inner", "n" + id},
                                   {"Flag", t % 2 == 0 ? "true" : "false"},
                                   {"N", id}}));
    const std::string bang = t % 2 == 0 ? "!" : "";
    expected.push_back("A" + id + "-n" + id + bang + ";B" + id + "-n" + id + bang + ";#{Missing}" +
                       std::to_string(t * 2));
  }
  for (int t = 0; t < 4; ++t) ASSERT_TRUE(output_is(tpl.render(sets[t]), expected[t]));

  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const auto r = tpl.render(sets[t]);
        if (!r.output || *r.output != expected[t]) ++mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

TEST(concurrency, one_variable_set_is_readable_from_several_threads) {
  const auto vars = make_variables({{"A", "#{B}#{B}"}, {"B", "#{C | ToLower}"}, {"C", "X"}});
  const auto tpl = eng::compiled_template::parse("#{A}");
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const auto r = tpl.render(vars);
        if (!r.output || *r.output != "xx" || vars.get("A") != std::optional<std::string>("xx"))
          ++mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

// --- custom filters (filters.hpp)
// -------------------------------------------------------------------------------

eng::filter_registry shout_registry() {
  eng::filter_registry registry;
  registry.add("Shout",
               [](const std::optional<std::string>& in,
                  std::span<const std::string> opts) -> std::optional<std::string> {
                 if (!in) return std::nullopt;
                 std::string out = *in;
                 for (const auto& o : opts) out += o;
                 return out + "!";
               });
  return registry;
}

TEST(custom_filters, registry_lookup_is_case_insensitive_and_replaces) {
  auto registry = shout_registry();
  EXPECT_NE(registry.find("shout"), nullptr);
  EXPECT_NE(registry.find("SHOUT"), nullptr);
  EXPECT_EQ(registry.find("whisper"), nullptr);
  registry.add("SHOUT", [](const std::optional<std::string>&, std::span<const std::string>) {
    return std::optional<std::string>("replaced");
  });
  ASSERT_NE(registry.find("Shout"), nullptr);
  EXPECT_EQ((*registry.find("Shout"))(std::string("x"), {}), std::optional<std::string>("replaced"));
}

TEST(custom_filters, work_at_top_level_with_options) {
  const auto registry = shout_registry();
  eng::render_options ropts;
  ropts.filters = &registry;
  const auto vars = make_variables({{"A", "hi"}});
  EXPECT_TRUE(clean_output_is(render("#{A | Shout}", vars, true, ropts), "hi!"));
  EXPECT_TRUE(clean_output_is(render("#{A | shout x \"y z\"}", vars, true, ropts), "hixy z!"));
  EXPECT_TRUE(clean_output_is(render("#{if A | Shout == \"hi!\"}yes#{/if}", vars, true, ropts), "yes"));
}

TEST(custom_filters, work_inside_each_bodies_options_and_referenced_values) {
  const auto registry = shout_registry();
  eng::render_options ropts;
  ropts.filters = &registry;
  const auto vars = make_variables({{"L", "a,b"}, {"B", "#{A | Shout}"}, {"A", "hi"}});
  EXPECT_TRUE(clean_output_is(render("#{each x in L}#{x | Shout}#{/each}", vars, true, ropts), "a!b!"));
  EXPECT_TRUE(clean_output_is(render("#{B}", vars, true, ropts), "hi!"));
  EXPECT_TRUE(clean_output_is(render("#{A | Shout #{A | Shout}}", vars, true, ropts), "hihi!!"));
}

TEST(custom_filters, built_ins_win_unless_they_give_null) {
  eng::filter_registry registry;
  registry.add("ToUpper", [](const std::optional<std::string>&, std::span<const std::string>) {
    return std::optional<std::string>("custom");
  });
  eng::render_options ropts;
  ropts.filters = &registry;
  const auto vars = make_variables({{"A", "abc"}});
  EXPECT_TRUE(clean_output_is(render("#{A | ToUpper}", vars, true, ropts), "ABC"));
  // ToUpper with an option gives null, so the registered fallback is used (§9.1).
  EXPECT_TRUE(clean_output_is(render("#{A | ToUpper x}", vars, true, ropts), "custom"));
}

TEST(custom_filters, a_null_result_is_echoed_like_an_unknown_filter) {
  eng::filter_registry registry;
  registry.add("Never", [](const std::optional<std::string>&, std::span<const std::string>) {
    return std::optional<std::string>();
  });
  eng::render_options ropts;
  ropts.filters = &registry;
  const auto r = render("#{A | Never}", make_variables({{"A", "abc"}}), true, ropts);
  EXPECT_TRUE(output_is(r, "#{A | Never}"));
  EXPECT_EQ(r.octostache_error, missing_tokens_error({"#{A | Never}"}));
}

}  // namespace

// Variables: the dictionary (case-insensitive names in insertion order, null values, sensitivity, copies),
// how names bind as paths in templates (§1), get/get_raw, and load_variables_json.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cuttle/engine.hpp"
#include "engine_helpers.hpp"

namespace {

namespace eng = cuttle::engine;
using cuttle::test::clean_output_is;
using cuttle::test::make_variables;
using cuttle::test::missing_tokens_error;
using cuttle::test::output_is;
using cuttle::test::render;

using opt = std::optional<std::string>;

// --- the dictionary
// ---------------------------------------------------------------------------------------------

TEST(variables, set_and_read_back) {
  eng::variables vars;
  EXPECT_EQ(vars.size(), 0u);
  vars.set("Name", "Web01");
  EXPECT_EQ(vars.size(), 1u);
  EXPECT_TRUE(vars.contains("Name"));
  EXPECT_EQ(vars.get_raw("Name"), opt("Web01"));
  EXPECT_EQ(vars.get("Name"), opt("Web01"));
  ASSERT_NE(vars.find("Name"), nullptr);
  EXPECT_EQ(vars.find("Name")->name, "Name");
  EXPECT_EQ(vars.find("Name")->value, opt("Web01"));
  EXPECT_FALSE(vars.find("Name")->sensitive);
}

TEST(variables, absent_names) {
  const eng::variables vars = make_variables({{"A", "1"}});
  EXPECT_FALSE(vars.contains("B"));
  EXPECT_EQ(vars.find("B"), nullptr);
  EXPECT_EQ(vars.get_raw("B"), std::nullopt);
  EXPECT_EQ(vars.get("B"), std::nullopt);
}

TEST(variables, names_are_case_insensitive_and_keep_first_spelling_and_position) {
  eng::variables vars;
  vars.set("Name", "a");
  vars.set("Other", "o");
  vars.set("NAME", "b");
  ASSERT_EQ(vars.size(), 2u);
  EXPECT_EQ(vars.entries()[0].name, "Name");
  EXPECT_EQ(vars.entries()[0].value, opt("b"));
  EXPECT_EQ(vars.entries()[1].name, "Other");
  EXPECT_EQ(vars.get_raw("name"), opt("b"));
  EXPECT_TRUE(vars.contains("nAmE"));
}

TEST(variables, entries_keep_insertion_order) {
  const auto vars = make_variables({{"z", "1"}, {"a", "2"}, {"m", "3"}});
  std::vector<std::string> names;
  for (const auto& e : vars.entries()) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"z", "a", "m"}));
}

TEST(variables, null_values_are_null_to_get_and_empty_in_templates) {
  const auto vars = make_variables({{"N", std::nullopt}});
  EXPECT_TRUE(vars.contains("N"));
  EXPECT_EQ(vars.get_raw("N"), std::nullopt);
  EXPECT_EQ(vars.get("N"), std::nullopt);
  EXPECT_TRUE(clean_output_is(render("<#{N}>", vars), "<>"));
}

TEST(variables, get_evaluates_the_value_as_a_template) {
  const auto vars = make_variables({{"Server", "Web01"},
                                    {"Port", "10933"},
                                    {"Url", "http://#{Server | ToLower}:#{Port}/"},
                                    {"Protocol", "#{Proto}"}});
  EXPECT_EQ(vars.get("Url"), opt("http://web01:10933/"));
  EXPECT_EQ(vars.get_raw("Url"), opt("http://#{Server | ToLower}:#{Port}/"));
  // A missing nested reference is echoed, as in Evaluate.
  EXPECT_EQ(vars.get("Protocol"), opt("#{Proto}"));
}

TEST(variables, get_of_a_null_filter_value_is_null) {
  const auto vars = make_variables({{"N", "#{ | null}"}});
  EXPECT_EQ(vars.get("N"), std::nullopt);
  EXPECT_EQ(vars.get_raw("N"), opt("#{ | null}"));
}

TEST(variables, copies_are_independent) {
  eng::variables original = make_variables({{"A", "1"}});
  eng::variables copy = original;
  copy.set("A", "2");
  copy.set("B", "b");
  EXPECT_EQ(original.get_raw("A"), opt("1"));
  EXPECT_FALSE(original.contains("B"));
  EXPECT_TRUE(clean_output_is(render("#{A}", original), "1"));
  EXPECT_TRUE(clean_output_is(render("#{A}#{B}", copy), "2b"));

  eng::variables assigned;
  assigned = copy;
  copy.set("A", "3");
  EXPECT_EQ(assigned.get_raw("A"), opt("2"));
}

TEST(variables, moves_keep_the_entries) {
  eng::variables source = make_variables({{"A", "1"}, {"B", "#{A}"}});
  eng::variables moved = std::move(source);
  EXPECT_EQ(moved.size(), 2u);
  EXPECT_TRUE(clean_output_is(render("#{B}", moved), "1"));
  eng::variables target;
  target = std::move(moved);
  EXPECT_EQ(target.get("B"), opt("1"));
}

TEST(variables, sensitivity_is_sticky) {
  eng::variables vars;
  vars.set("Password", "secret", /*sensitive=*/true);
  vars.set("password", "changed");
  ASSERT_NE(vars.find("PASSWORD"), nullptr);
  EXPECT_TRUE(vars.find("PASSWORD")->sensitive);
  EXPECT_EQ(vars.sensitive_values(), (std::vector<std::string>{"changed"}));
}

TEST(variables, sensitive_values_skip_empty_and_null_values) {
  eng::variables vars;
  vars.set("A", "a", true);
  vars.set("Empty", "", true);
  vars.set("Null", std::nullopt, true);
  vars.set("Plain", "p");
  EXPECT_EQ(vars.sensitive_values(), (std::vector<std::string>{"a"}));
}

// --- how names bind in templates (§1)
// ---------------------------------------------------------------------------

TEST(variable_binding, names_bind_by_their_longest_valid_prefix) {
  for (const char* name : {"Foo#bar", "Foo.", "Foo!x"}) {
    eng::variables vars;
    vars.set(name, "v");
    EXPECT_TRUE(clean_output_is(render("#{Foo}", vars), "v")) << name;
    EXPECT_EQ(vars.get_raw(name), opt("v")) << name;
  }
  EXPECT_TRUE(clean_output_is(render("#{Tea}", make_variables({{"Tea in Cup", "x"}})), "x"));
  EXPECT_TRUE(clean_output_is(render("#{A}", make_variables({{"A == B", "x"}})), "x"));
  EXPECT_TRUE(clean_output_is(render("#{A}", make_variables({{"A != B", "x"}})), "x"));
}

TEST(variable_binding, names_without_a_leading_identifier_bind_nothing) {
  for (const char* name : {".x", "[x]", "#x"}) {
    eng::variables vars;
    vars.set(name, "v");
    EXPECT_EQ(vars.get_raw(name), opt("v")) << name;
    const auto r = render("#{x}", vars);
    EXPECT_TRUE(output_is(r, "#{x}")) << name;
    EXPECT_EQ(r.octostache_error, missing_tokens_error({"#{x}"})) << name;
  }
  eng::variables vars;
  vars.set("", "empty name");
  EXPECT_EQ(vars.get_raw(""), opt("empty name"));
}

TEST(variable_binding, the_later_of_two_names_with_one_path_wins) {
  EXPECT_TRUE(clean_output_is(render("#{Foo}", make_variables({{"Foo!x", "1"}, {"Foo", "2"}})), "2"));
  EXPECT_TRUE(clean_output_is(render("#{Foo}", make_variables({{"Foo", "2"}, {"Foo!x", "1"}})), "1"));
}

TEST(variable_binding, index_and_dot_spellings_are_normalised) {
  const auto vars = make_variables({{"Octopus.Action[ Package A].Name", "A"}, {"Foo . Bar", "B"}});
  EXPECT_TRUE(clean_output_is(render("#{Octopus.Action[Package A].Name}", vars), "A"));
  EXPECT_TRUE(clean_output_is(render("#{Foo.Bar}", vars), "B"));
}

// --- load_variables_json
// -------------------------------------------------------------------------------------------

TEST(load_variables_json, keeps_file_order_and_null_values) {
  eng::variables vars;
  const auto result = eng::load_variables_json(R"({"b": "1", "a": "2", "c": null})", "vars.json", vars);
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(vars.size(), 3u);
  EXPECT_EQ(vars.entries()[0].name, "b");
  EXPECT_EQ(vars.entries()[1].name, "a");
  EXPECT_EQ(vars.entries()[2].name, "c");
  EXPECT_EQ(vars.get_raw("a"), opt("2"));
  EXPECT_TRUE(vars.contains("c"));
  EXPECT_EQ(vars.get_raw("c"), std::nullopt);
}

TEST(load_variables_json, non_string_values_are_stored_as_compact_json) {
  eng::variables vars;
  const auto result = eng::load_variables_json(
      R"({"A": {"b": [1, 2]}, "N": 5, "T": true, "F": false, "D": 1.5, "E": [], "S": "s p a c e"})",
      "vars.json", vars);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(vars.get_raw("A"), opt(R"({"b":[1,2]})"));
  EXPECT_EQ(vars.get_raw("N"), opt("5"));
  EXPECT_EQ(vars.get_raw("T"), opt("true"));
  EXPECT_EQ(vars.get_raw("F"), opt("false"));
  EXPECT_EQ(vars.get_raw("D"), opt("1.5"));
  EXPECT_EQ(vars.get_raw("E"), opt("[]"));
  EXPECT_EQ(vars.get_raw("S"), opt("s p a c e"));
  // The stored JSON text is walkable like any JSON value.
  EXPECT_TRUE(clean_output_is(render("#{A.b[1]}", vars), "2"));
}

TEST(load_variables_json, later_entries_override_earlier_ones) {
  eng::variables vars;
  vars.set("X", "old");
  const auto result =
      eng::load_variables_json(R"({"A": "1", "a": "2", "x": "new", "B": "3", "B": "4"})", "vars.json", vars);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(vars.size(), 3u);
  EXPECT_EQ(vars.entries()[0].name, "X");
  EXPECT_EQ(vars.get_raw("X"), opt("new"));
  EXPECT_EQ(vars.find("a")->name, "A");
  EXPECT_EQ(vars.get_raw("A"), opt("2"));
  EXPECT_EQ(vars.get_raw("B"), opt("4"));
}

TEST(load_variables_json, sensitive_loads_mark_every_entry) {
  eng::variables vars;
  ASSERT_TRUE(
      eng::load_variables_json(R"({"Password": "hunter2", "Token": "t"})", "secrets.json", vars, true).ok());
  EXPECT_TRUE(vars.find("Password")->sensitive);
  EXPECT_TRUE(vars.find("Token")->sensitive);
  auto values = vars.sensitive_values();
  std::sort(values.begin(), values.end());
  EXPECT_EQ(values, (std::vector<std::string>{"hunter2", "t"}));
}

TEST(load_variables_json, invalid_json_reports_line_and_column_and_changes_nothing) {
  eng::variables vars;
  vars.set("Keep", "k");
  const auto result = eng::load_variables_json("{\n  \"a\": 1,\n  \"b\": ]\n}", "bad.json", vars);
  EXPECT_FALSE(result.ok());
  const auto* d = cuttle::test::find_error(result.diagnostics(), eng::error_code::invalid_json);
  ASSERT_NE(d, nullptr) << ::testing::PrintToString(result.diagnostics());
  EXPECT_EQ(d->source, "bad.json");
  EXPECT_EQ(d->line, 3u);
  EXPECT_EQ(d->column, 8u);
  EXPECT_EQ(vars.size(), 1u);
  EXPECT_FALSE(vars.contains("a"));
}

TEST(load_variables_json, a_non_object_top_level_is_an_error) {
  for (const char* text : {"[1, 2]", "\"text\"", "12", "null", ""}) {
    eng::variables vars;
    const auto result = eng::load_variables_json(text, "top.json", vars);
    EXPECT_FALSE(result.ok()) << text;
    const auto* d = cuttle::test::find_error(result.diagnostics(), eng::error_code::invalid_json);
    ASSERT_NE(d, nullptr) << text;
    EXPECT_EQ(d->source, "top.json");
    EXPECT_EQ(vars.size(), 0u) << text;
  }
}

}  // namespace

// Template properties (RapidCheck): rendering arbitrary text never crashes or escapes its limits, text
// without `#{` is the identity, `##{x}` escapes, and a defined variable substitutes its value exactly.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cuttle/engine.hpp"
#include "engine_helpers.hpp"

namespace {

namespace eng = cuttle::engine;

/// Pieces that assemble into almost-templates: openers, closers, keywords, options, escapes and text.
const std::vector<std::string>& token_alphabet() {
  static const std::vector<std::string> alphabet = {
      "#{",       "}",       "|",       "#{if ",     "#{/if}",     "#{each x in ",
      "#{/each}", "[",       "]",       "\\\"",      "\"",         " ",
      "a",        "#",       "#{else}", "#{unless ", "#{/unless}", "#{elseif ",
      "#{calc ",  "(",       ")",       "+",         "-",          "*",
      "/",        "{",       ".",       "x",         "L",          "==",
      "!=",       "ToUpper", "null",    "Trim",      "[*]",        "\n",
      "1",        "0"};
  return alphabet;
}

rc::Gen<std::string> token_soup() {
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(token_alphabet())),
                      [](const std::vector<std::string>& parts) {
                        std::string text;
                        for (const auto& p : parts) text += p;
                        return text;
                      });
}

/// Token soup with arbitrary strings mixed in between the tokens.
rc::Gen<std::string> mixed_soup() {
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(rc::gen::oneOf(
                          rc::gen::elementOf(token_alphabet()), rc::gen::arbitrary<std::string>())),
                      [](const std::vector<std::string>& parts) {
                        std::string text;
                        for (const auto& p : parts) text += p;
                        return text;
                      });
}

/// A variable set the token soup can hit: loops over `L`, conditions on `a`/`x`, self-free references.
eng::variables soup_variables() {
  eng::variables vars;
  vars.set("a", "true");
  vars.set("x", "1");
  vars.set("L", "a,b,c");
  vars.set("a a", "#{x}#{x}");
  vars.set("J", R"({"a": [1, 2, {"x": "y"}]})");
  return vars;
}

/// Tight limits so a property run also exercises the limit paths.
eng::render_options tight_limits() {
  eng::render_options ropts;
  ropts.max_iterations = 200;
  ropts.max_output_bytes = 4096;
  ropts.max_reference_depth = 16;
  return ropts;
}

/// The invariants every render must keep, whatever the input.
void check_render_invariants(const std::string& text, bool halt_on_error) {
  eng::parse_options popts;
  popts.halt_on_error = halt_on_error;
  popts.max_nesting_depth = 16;
  const auto ropts = tight_limits();
  const auto vars = soup_variables();

  const auto tpl = eng::compiled_template::parse(text, popts);
  const auto r = tpl.render(vars, ropts);

  const auto is_limit = [](const eng::diagnostic& d) { return d.code == eng::error_code::limit_exceeded; };
  const bool limit_hit = std::any_of(tpl.diagnostics().begin(), tpl.diagnostics().end(), is_limit) ||
                         std::any_of(r.diagnostics.begin(), r.diagnostics.end(), is_limit);

  if (r.output) RC_ASSERT(r.output->size() <= ropts.max_output_bytes);
  if (r.failed) {
    RC_ASSERT(!r.output.has_value());
    RC_ASSERT(std::any_of(r.diagnostics.begin(), r.diagnostics.end(),
                          [](const eng::diagnostic& d) { return d.severity == eng::severity::error; }));
  }
  if (halt_on_error && tpl.parse_failed() && !limit_hit) {
    // Halting mode: a template that does not parse renders verbatim.
    RC_ASSERT(r.output == std::optional<std::string>(text));
  }
  // Continue mode never fails as a whole (unless a resource limit stopped the parser).
  if (!halt_on_error && !limit_hit) RC_ASSERT(!tpl.parse_failed());
  for (const auto& d : r.diagnostics) {
    RC_ASSERT(d.line >= 1u);
    RC_ASSERT(d.column >= 1u);
  }

  // Rendering is deterministic and a template can be rendered again.
  const auto again = tpl.render(vars, ropts);
  RC_ASSERT(again.output == r.output);
  RC_ASSERT(again.failed == r.failed);
  RC_ASSERT(again.octostache_error == r.octostache_error);

  // One-shot evaluate() streams tokens to the renderer without holding the AST; it must agree with
  // parse() + render() on everything, diagnostics included.
  const auto once = eng::evaluate(text, vars, popts, ropts);
  RC_ASSERT(once.output == r.output);
  RC_ASSERT(once.failed == r.failed);
  RC_ASSERT(once.octostache_error == r.octostache_error);
  RC_ASSERT(once.diagnostics.size() == r.diagnostics.size());
  for (std::size_t i = 0; i < r.diagnostics.size(); ++i) {
    RC_ASSERT(once.diagnostics[i].to_string() == r.diagnostics[i].to_string());
  }
}

RC_GTEST_PROP(template_props, render_keeps_invariants_on_arbitrary_bytes, (const std::string& text)) {
  check_render_invariants(text, true);
  check_render_invariants(text, false);
}

RC_GTEST_PROP(template_props, render_keeps_invariants_on_token_soup, ()) {
  const auto text = *token_soup();
  check_render_invariants(text, true);
  check_render_invariants(text, false);
}

RC_GTEST_PROP(template_props, render_keeps_invariants_on_mixed_soup, ()) {
  const auto text = *mixed_soup();
  check_render_invariants(text, true);
  check_render_invariants(text, false);
}

RC_GTEST_PROP(template_props, to_string_and_argument_names_never_crash_on_token_soup, ()) {
  const auto text = *token_soup();
  for (bool halt : {true, false}) {
    eng::parse_options popts;
    popts.halt_on_error = halt;
    const auto tpl = eng::compiled_template::parse(text, popts);
    RC_ASSERT(tpl.source() == text);
    (void)tpl.to_string();
    (void)tpl.argument_names();
  }
}

RC_GTEST_PROP(template_props, text_without_an_opener_renders_to_itself, (std::string text)) {
  // Break every "#{" so the text has none.
  for (std::size_t at = text.find("#{"); at != std::string::npos; at = text.find("#{", at)) text.erase(at, 1);
  RC_PRE(text.find("#{") == std::string::npos);
  for (bool halt : {true, false}) {
    const auto r = cuttle::test::render(text, soup_variables(), halt);
    RC_ASSERT(r.output == std::optional<std::string>(text));
    RC_ASSERT(r.octostache_error.empty());
    RC_ASSERT(!r.failed);
  }
}

/// Text without `#` and `}`.
rc::Gen<std::string> plain_text() {
  return rc::gen::map(rc::gen::arbitrary<std::string>(), [](std::string s) {
    std::erase_if(s, [](char c) { return c == '#' || c == '}'; });
    return s;
  });
}

RC_GTEST_PROP(template_props, double_hash_escapes_an_opener, ()) {
  const auto inner = *plain_text();
  const auto before = *plain_text();
  const auto r = cuttle::test::render(before + "##{" + inner + "}", soup_variables());
  RC_ASSERT(r.output == std::optional<std::string>(before + "#{" + inner + "}"));
  RC_ASSERT(r.octostache_error.empty());
}

RC_GTEST_PROP(template_props, a_defined_variable_substitutes_exactly, (std::string value)) {
  for (std::size_t at = value.find("#{"); at != std::string::npos; at = value.find("#{", at))
    value.erase(at, 1);
  const auto before = *plain_text();
  const auto after = *plain_text();
  eng::variables vars;
  vars.set("Value", value);
  const auto r = cuttle::test::render(before + "#{Value}" + after, vars);
  RC_ASSERT(r.output == std::optional<std::string>(before + value + after));
  RC_ASSERT(r.octostache_error.empty());
  RC_ASSERT(vars.get("Value") == std::optional<std::string>(value));
}

/// Names from [A-Za-z0-9_] (always identifier characters), non-empty.
rc::Gen<std::string> simple_name() {
  return rc::gen::nonEmpty(rc::gen::container<std::string>(
      rc::gen::elementOf(std::string("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"))));
}

RC_GTEST_PROP(template_props, names_match_case_insensitively, ()) {
  const auto name = *simple_name();
  std::string flipped = name;
  for (char& c : flipped) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    } else if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  eng::variables vars;
  vars.set(name, "v");
  RC_ASSERT(cuttle::test::render("#{" + flipped + "}", vars).output == std::optional<std::string>("v"));
  RC_ASSERT(cuttle::test::render("#{ " + flipped + " }", vars).output == std::optional<std::string>("v"));
}

RC_GTEST_PROP(template_props, truthiness_agrees_across_entry_points, (std::string value)) {
  for (std::size_t at = value.find("#{"); at != std::string::npos; at = value.find("#{", at))
    value.erase(at, 1);
  eng::variables vars;
  vars.set("V", value);
  const bool truthy = eng::is_truthy(value);
  RC_ASSERT(eng::evaluate_truthy("#{V}", vars) == truthy);
  RC_ASSERT(cuttle::test::render("#{if V}T#{else}F#{/if}", vars).output ==
            std::optional<std::string>(truthy ? "T" : "F"));
}

RC_GTEST_PROP(template_props, comma_lists_iterate_every_item, ()) {
  const auto items = *rc::gen::nonEmpty(rc::gen::container<std::vector<std::string>>(simple_name()));
  std::string list;
  std::string expected;
  for (std::size_t i = 0; i < items.size(); ++i) {
    list += (i == 0 ? "" : ",") + items[i];
    expected += "[" + items[i] + "]";
  }
  eng::variables vars;
  vars.set("L", list);
  RC_ASSERT(cuttle::test::render("#{each i in L}[#{i}]#{/each}", vars).output ==
            std::optional<std::string>(expected));
}

}  // namespace

// The variables-file reader gives back every string exactly as nlohmann/json encoded it (escapes, quotes,
// backslashes, control characters, non-ASCII), whatever the alignment of the 8-byte scan.
RC_GTEST_PROP(template_props, variables_file_strings_round_trip, ()) {
  const auto prefix = *rc::gen::container<std::string>(rc::gen::elementOf(std::string(" \n\t")));
  const auto value = *rc::gen::oneOf(
      rc::gen::arbitrary<std::string>(),
      rc::gen::container<std::string>(rc::gen::elementOf(std::string("\"\\\n\t\x01 abcdefgh\xc3\xa9"))));
  const std::string text =
      "{" + prefix +
      "\"Name\": " + nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
      "}";
  const auto expected = nlohmann::json::parse(text)["Name"].get<std::string>();
  eng::variables vars;
  const auto loaded = eng::load_variables_json(text, "<prop>", vars, false);
  RC_ASSERT(loaded.ok());
  RC_ASSERT(vars.get_raw("Name") == std::optional<std::string>(expected));
}

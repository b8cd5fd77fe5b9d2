// Structured configuration variables for JSON, YAML and Java properties (calamari-spec §5.5): exact output
// text (formatting is kept byte for byte outside the replaced values), and the values read back with a real
// parser (nlohmann/json, libfyaml, and a reference reader for properties written here from the Java
// documentation). Properties at the end: documents without matching variables come back unchanged, and any
// string put in place of a value reads back as itself.
#include "cuttle/runner/deploy/structured_config.hpp"

#include <gtest/gtest.h>
#include <libfyaml.h>
#include <rapidcheck/gtest.h>

#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace {

using cuttle::runner::deploy::replace_json;
using cuttle::runner::deploy::replace_outcome;
using cuttle::runner::deploy::replace_properties;
using cuttle::runner::deploy::replace_yaml;
using cuttle::runner::deploy::structured_variable;
using vars = std::vector<structured_variable>;

replace_outcome json(std::string_view doc, const vars& v) { return replace_json(doc, v); }
replace_outcome yaml(std::string_view doc, const vars& v) { return replace_yaml(doc, v); }
replace_outcome props(std::string_view doc, const vars& v) { return replace_properties(doc, v); }

// --- reading back
// --------------------------------------------------------------------------------------------

/// A plain scalar's value under YAML 1.2's core schema, as JSON.
nlohmann::ordered_json resolve_plain(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  const auto parsed = nlohmann::ordered_json::parse(s, nullptr, false);
  if (!parsed.is_discarded() && parsed.is_number()) return parsed;
  return s;
}

/// A scalar's value. One-line single-quoted scalars are decoded here from the source text: libfyaml 0.7.12
/// mis-decodes runs of '' escapes ('''''0x1' reads as '''0x).
std::string scalar_value(fy_node* n, const std::string& source) {
  if (fy_node_get_style(n) == FYNS_SINGLE_QUOTED) {
    fy_token* tok = fy_node_get_scalar_token(n);
    const fy_mark* start = tok != nullptr ? fy_token_start_mark(tok) : nullptr;
    const fy_mark* end = tok != nullptr ? fy_token_end_mark(tok) : nullptr;
    if (start != nullptr && end != nullptr) {
      const std::string raw = source.substr(start->input_pos, end->input_pos - start->input_pos);
      if (raw.find_first_of("\r\n") == std::string::npos) {
        std::string out;
        for (std::size_t i = 0; i < raw.size(); ++i) {
          out += raw[i];
          if (raw[i] == '\'' && i + 1 < raw.size() && raw[i + 1] == '\'') ++i;
        }
        return out;
      }
    }
  }
  std::size_t len = 0;
  const char* s = fy_node_get_scalar(n, &len);
  return std::string(s == nullptr ? "" : s, len);
}

nlohmann::ordered_json yaml_to_json(fy_node* n, const std::string& source) {
  if (n == nullptr) return nullptr;
  switch (fy_node_get_type(n)) {
    case FYNT_SCALAR: {
      std::string text = scalar_value(n, source);
      std::size_t tag_len = 0;
      const char* tag = fy_node_get_tag(n, &tag_len);
      if (tag != nullptr) return text;  // tagged: the text itself
      if (fy_node_get_style(n) == FYNS_PLAIN) return resolve_plain(text);
      return text;
    }
    case FYNT_SEQUENCE: {
      auto out = nlohmann::ordered_json::array();
      void* it = nullptr;
      while (fy_node* item = fy_node_sequence_iterate(n, &it)) out.push_back(yaml_to_json(item, source));
      return out;
    }
    case FYNT_MAPPING: {
      auto out = nlohmann::ordered_json::object();
      void* it = nullptr;
      while (fy_node_pair* pair = fy_node_mapping_iterate(n, &it)) {
        out[scalar_value(fy_node_pair_key(pair), source)] = yaml_to_json(fy_node_pair_value(pair), source);
      }
      return out;
    }
  }
  return nullptr;
}

/// Every document of a YAML stream as JSON (plain scalars resolved with the core schema); nullopt if
/// libfyaml rejects the text.
std::optional<std::vector<nlohmann::ordered_json>> read_yaml(const std::string& text) {
  fy_diag_cfg dcfg;
  fy_diag_cfg_default(&dcfg);
  dcfg.fp = nullptr;
  dcfg.output_fn = [](fy_diag*, void*, const char*, size_t) {};
  fy_diag* diag = fy_diag_create(&dcfg);
  fy_parse_cfg cfg{};
  cfg.flags = static_cast<fy_parse_cfg_flags>(FYPCF_QUIET | FYPCF_RESOLVE_DOCUMENT);
  cfg.diag = diag;
  fy_parser* p = fy_parser_create(&cfg);
  fy_diag_destroy(diag);  // the parser keeps its own reference
  if (p == nullptr) return std::nullopt;
  if (fy_parser_set_string(p, text.data(), text.size()) != 0) {
    fy_parser_destroy(p);
    return std::nullopt;
  }
  std::vector<nlohmann::ordered_json> docs;
  while (fy_document* d = fy_parse_load_document(p)) {
    docs.push_back(yaml_to_json(fy_document_root(d), text));
    fy_parse_document_destroy(p, d);
  }
  const bool failed = fy_parser_get_stream_error(p);
  fy_parser_destroy(p);
  if (failed) return std::nullopt;
  return docs;
}

nlohmann::ordered_json yaml_doc(const std::string& text) {
  const auto docs = read_yaml(text);
  if (!docs || docs->size() != 1) {
    ADD_FAILURE() << "not one YAML document:\n" << text;
    return nullptr;
  }
  return docs->front();
}

/// The properties of a .properties text, read as java.util.Properties.load does (a reference written from
/// its documentation: join continued lines, then split key and value, then unescape).
std::vector<std::pair<std::string, std::string>> read_properties(const std::string& text) {
  // Natural lines.
  std::vector<std::string> lines;
  std::string cur;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' || text[i] == '\n') {
      lines.push_back(cur);
      cur.clear();
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      cur += text[i];
    }
  }
  if (!cur.empty()) lines.push_back(cur);
  const auto strip = [](const std::string& s) {
    std::size_t k = 0;
    while (k < s.size() && (s[k] == ' ' || s[k] == '\t' || s[k] == '\f')) ++k;
    return s.substr(k);
  };
  const auto odd_backslashes = [](const std::string& s) {
    std::size_t n = 0;
    while (n < s.size() && s[s.size() - 1 - n] == '\\') ++n;
    return n % 2 == 1;
  };
  const auto unescape = [](const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '\\' || i + 1 >= s.size()) {
        out += s[i];
        continue;
      }
      const char e = s[++i];
      if (e == 'u') {
        unsigned v = std::stoul(s.substr(i + 1, 4), nullptr, 16);
        i += 4;
        if (v >= 0xD800 && v <= 0xDBFF && s.compare(i + 1, 2, "\\u") == 0) {
          const unsigned lo = std::stoul(s.substr(i + 3, 4), nullptr, 16);
          v = 0x10000 + ((v - 0xD800) << 10U) + (lo - 0xDC00);
          i += 6;
        }
        if (v < 0x80) {
          out += static_cast<char>(v);
        } else if (v < 0x800) {
          out += static_cast<char>(0xC0 | (v >> 6));
          out += static_cast<char>(0x80 | (v & 0x3F));
        } else if (v < 0x10000) {
          out += static_cast<char>(0xE0 | (v >> 12));
          out += static_cast<char>(0x80 | ((v >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (v & 0x3F));
        } else {
          out += static_cast<char>(0xF0 | (v >> 18));
          out += static_cast<char>(0x80 | ((v >> 12) & 0x3F));
          out += static_cast<char>(0x80 | ((v >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (v & 0x3F));
        }
      } else {
        out += e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 'f' ? '\f' : e;
      }
    }
    return out;
  };
  std::vector<std::pair<std::string, std::string>> out;
  const auto split = [&](const std::string& logical) {
    std::size_t key_end = 0;
    while (key_end < logical.size()) {
      const char c = logical[key_end];
      if (c == '\\') {
        key_end += 2;
        continue;
      }
      if (c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f') break;
      ++key_end;
    }
    key_end = std::min(key_end, logical.size());
    std::size_t v = key_end;
    while (v < logical.size() && (logical[v] == ' ' || logical[v] == '\t' || logical[v] == '\f')) ++v;
    if (v < logical.size() && (logical[v] == '=' || logical[v] == ':')) ++v;
    while (v < logical.size() && (logical[v] == ' ' || logical[v] == '\t' || logical[v] == '\f')) ++v;
    out.emplace_back(unescape(logical.substr(0, key_end)), unescape(logical.substr(v)));
  };
  // Logical lines: a comment needs an empty logical line so far; an odd number of trailing backslashes joins
  // the next natural line (its leading blanks dropped); blank logical lines are skipped.
  std::string logical;
  for (const std::string& natural : lines) {
    const std::string s = strip(natural);
    if (logical.empty() && !s.empty() && (s[0] == '#' || s[0] == '!')) continue;
    logical += s;
    if (odd_backslashes(logical)) {
      logical.pop_back();
      continue;
    }
    if (!logical.empty()) split(logical);
    logical.clear();
  }
  if (!logical.empty()) split(logical);
  return out;
}

std::optional<std::string> property(const std::string& text, const std::string& key) {
  std::optional<std::string> value;
  for (const auto& [k, v] : read_properties(text))
    if (k == key) value = v;
  return value;
}

// --- JSON
// ----------------------------------------------------------------------------------------------------

TEST(structured_json, replaces_a_nested_value_and_keeps_everything_else) {
  const std::string doc =
      "{\n"
      "  // logging\n"
      "  \"Logging\": { \"LogLevel\": {\"Default\" :  \"Debug\", \"System\": \"Information\"} },\n"
      "  /* keep */ \"Path\": \"C:\\\\temp\\u0041\",\n"
      "  \"Zeta\": 1.50\n"
      "}\n";
  const auto out = json(doc, {{"Logging:LogLevel:Default", "Warning"}});
  ASSERT_TRUE(out.parsed) << out.error;
  EXPECT_EQ(out.replaced, 1U);
  EXPECT_TRUE(out.warnings.empty());
  EXPECT_EQ(out.text,
            "{\n"
            "  // logging\n"
            "  \"Logging\": { \"LogLevel\": {\"Default\" :  \"Warning\", \"System\": \"Information\"} },\n"
            "  /* keep */ \"Path\": \"C:\\\\temp\\u0041\",\n"
            "  \"Zeta\": 1.50\n"
            "}\n");
}

TEST(structured_json, header_example) {
  const vars v{{"Logging:LogLevel:Default", "Warning"}};
  const auto out = json(R"({"Logging":{"LogLevel":{"Default":"Debug"}}})", v);
  EXPECT_TRUE(out.parsed);
  EXPECT_EQ(out.replaced, 1U);
  EXPECT_EQ(out.text, R"({"Logging":{"LogLevel":{"Default":"Warning"}}})");
}

TEST(structured_json, paths_are_case_insensitive_including_non_ascii_letters) {
  const auto out = json(R"({"Äpfel":{"Größe":"s"},"ΑΒΓ":1})", {{"äPFEL:GRÖßE", "m"}, {"αβγ", "2"}});
  EXPECT_EQ(out.replaced, 2U);
  EXPECT_EQ(out.text, R"({"Äpfel":{"Größe":"m"},"ΑΒΓ":2})");
}

TEST(structured_json, property_names_are_matched_unescaped) {
  const auto out = json(R"({"a\u0062\/c":"x"})", {{"ab/c", "y"}});
  EXPECT_EQ(out.text, R"({"a\u0062\/c":"y"})");
}

TEST(structured_json, octopus_variables_are_ignored_unless_they_are_paths) {
  const std::string doc = R"({"OctopusPort":1,"Octopus":{"Port":2},"octopus.x":3})";
  const auto out =
      json(doc, {{"OctopusPort", "9"}, {"Octopus:Port", "8"}, {"Octopus.X", "7"}, {"Octopus", "{}"}});
  EXPECT_EQ(out.replaced, 1U);
  EXPECT_EQ(out.text, R"({"OctopusPort":1,"Octopus":{"Port":8},"octopus.x":3})");
}

TEST(structured_json, array_indexes_are_path_segments) {
  const auto out = json(R"({"Servers":[{"Host":"a"},{"Host":"b"}],"Ports":[1,2,3]})",
                        {{"Servers:1:Host", "c"}, {"Ports:2", "4"}, {"Ports:3", "5"}});
  EXPECT_EQ(out.replaced, 2U);
  EXPECT_EQ(out.text, R"({"Servers":[{"Host":"a"},{"Host":"c"}],"Ports":[1,2,4]})");
}

TEST(structured_json, root_arrays_have_index_paths) {
  const auto out = json("[\"a\", {\"b\": true}]", {{"1:B", "false"}});
  EXPECT_EQ(out.text, "[\"a\", {\"b\": false}]");
}

TEST(structured_json, numbers_stay_numbers_when_the_value_is_one) {
  const std::string doc = R"({"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1})";
  const auto out = json(
      doc,
      {{"a", "42"}, {"b", " -1.5e3 "}, {"c", "+7"}, {"d", "007"}, {"e", "abc"}, {"f", "5."}, {"g", "0x10"}});
  EXPECT_EQ(out.replaced, 7U);
  EXPECT_EQ(out.text, R"({"a":42,"b":-1.5e3,"c":7,"d":7,"e":"abc","f":5,"g":"0x10"})");
}

TEST(structured_json, numbers_with_trailing_text_or_beyond_double_are_strings) {
  const auto out = json(
      R"({"a":1,"b":1,"c":1,"d":1,"e":1,"f":1})",
      {{"a", "1 // c"}, {"b", "1 2"}, {"c", "1e5}"}, {"d", "1e400"}, {"e", "-0.2e-400"}, {"f", "9e308"}});
  EXPECT_EQ(out.text, R"({"a":"1 // c","b":"1 2","c":"1e5}","d":"1e400","e":-0.2e-400,"f":"9e308"})");
}

TEST(structured_json, numbers_beyond_double_in_a_replacement_value_are_strings) {
  // Found by the structured_json fuzzer: nlohmann/json (like other strict readers) rejects 367e5555554674.
  const auto out =
      json(R"({"a":[],"b":{}})", {{"a", "367e5555554674"}, {"b", R"({"k":[1e400,-2E+999,1e-400,5]})"}});
  EXPECT_EQ(out.text, R"({"a":"367e5555554674","b":{"k":["1e400","-2E+999",1e-400,5]}})");
  EXPECT_TRUE(nlohmann::json::accept(out.text));
}

TEST(structured_json, replacement_objects_are_written_as_strict_json) {
  const auto out = json(R"({"a":{}})", {{"a", "{\"k\":\"x\xFF\ty\\ude00\\ud83d\\ude00\\ud800\"}"}});
  EXPECT_EQ(out.text, "{\"a\":{\"k\":\"x\xEF\xBF\xBD\\ty\\ufffd\\ud83d\\ude00\\ufffd\"}}");
  EXPECT_TRUE(nlohmann::json::accept(out.text));
}

TEST(structured_json, booleans_stay_booleans_when_the_value_is_one) {
  const auto out = json(R"({"a":true,"b":false,"c":true})", {{"a", "False"}, {"b", " TRUE"}, {"c", "yes"}});
  EXPECT_EQ(out.text, R"({"a":false,"b":true,"c":"yes"})");
}

TEST(structured_json, strings_and_nulls_take_strings) {
  const auto out =
      json(R"({"a":"x","b":null,"c":"y"})", {{"a", "123"}, {"b", "true"}, {"c", "q\"\\\n\t\x01 é 😀"}});
  EXPECT_EQ(out.text, R"({"a":"123","b":"true","c":"q\"\\\n\t\u0001 é 😀"})");
  const auto parsed = nlohmann::json::parse(out.text);
  EXPECT_EQ(parsed["c"], "q\"\\\n\t\x01 é 😀");
}

TEST(structured_json, a_null_value_writes_null_whatever_was_there) {
  const auto out = json(R"({"a":"x","b":1,"c":true,"d":{"e":1},"f":[1]})", {{"a", std::nullopt},
                                                                            {"b", std::nullopt},
                                                                            {"c", std::nullopt},
                                                                            {"d", std::nullopt},
                                                                            {"f", std::nullopt}});
  EXPECT_EQ(out.replaced, 5U);
  EXPECT_EQ(out.text, R"({"a":null,"b":null,"c":null,"d":null,"f":null})");
}

TEST(structured_json, invalid_utf8_in_a_value_becomes_the_replacement_character) {
  const auto out = json(R"({"a":"x"})", {{"a", "b\xFF"}});
  EXPECT_EQ(out.text, "{\"a\":\"b\xEF\xBF\xBD\"}");
}

TEST(structured_json, objects_are_replaced_whole_and_indented_like_the_document) {
  const std::string doc =
      "{\n"
      "    \"Name\": \"x\",\n"
      "    \"Db\": {\n"
      "        \"Host\": \"old\"\n"
      "    },\n"
      "    \"List\": []\n"
      "}";
  const auto out = json(doc, {{"Db", R"({"Host": "new", "Ports": [1, 2.50, {}], /* c */ "E": [],})"},
                              {"Db:Host", "ignored"},
                              {"List", "[1]"}});
  ASSERT_TRUE(out.parsed);
  EXPECT_EQ(out.replaced, 2U);
  EXPECT_EQ(out.text,
            "{\n"
            "    \"Name\": \"x\",\n"
            "    \"Db\": {\n"
            "        \"Host\": \"new\",\n"
            "        \"Ports\": [\n"
            "            1,\n"
            "            2.50,\n"
            "            {}\n"
            "        ],\n"
            "        \"E\": []\n"
            "    },\n"
            "    \"List\": [\n"
            "        1\n"
            "    ]\n"
            "}");
  EXPECT_TRUE(nlohmann::json::accept(out.text));
}

TEST(structured_json, objects_are_compact_in_a_one_line_document) {
  const auto out = json(R"({"a": {"b": 1}, "c": [0]})", {{"a", "{ \"x\" : [ 1 , 2 ] }"}, {"c", "\"s\""}});
  EXPECT_EQ(out.text, R"({"a": {"x":[1,2]}, "c": "s"})");
}

TEST(structured_json, an_unparsable_object_value_is_a_warning_without_the_value) {
  const std::string doc = R"({"a": {"b": 1}})";
  const auto out = json(doc, {{"A", "{secret"}});
  ASSERT_TRUE(out.parsed);
  EXPECT_EQ(out.replaced, 0U);
  EXPECT_EQ(out.text, doc);
  ASSERT_EQ(out.warnings.size(), 1U);
  EXPECT_EQ(out.warnings[0], "Unable to set value for A. The variable value could not be parsed as JSON.");
}

TEST(structured_json, the_outermost_match_wins) {
  const auto out = json(R"({"a":{"b":1}})", {{"a:b", "2"}, {"a", "{\"c\":3}"}});
  EXPECT_EQ(out.replaced, 1U);
  EXPECT_EQ(out.text, R"({"a":{"c":3}})");
}

TEST(structured_json, duplicate_keys_are_all_replaced_and_the_last_variable_wins) {
  const auto out = json(R"({"a":1,"A":2})", {{"a", "3"}, {"A", "4"}});
  EXPECT_EQ(out.replaced, 2U);
  EXPECT_EQ(out.text, R"({"a":4,"A":4})");
}

TEST(structured_json, crlf_documents_stay_crlf) {
  const std::string doc = "{\r\n  \"a\": {\r\n    \"b\": 1\r\n  }\r\n}\r\n";
  const auto out = json(doc, {{"a", R"({"c": [true]})"}});
  EXPECT_EQ(out.text, "{\r\n  \"a\": {\r\n    \"c\": [\r\n      true\r\n    ]\r\n  }\r\n}\r\n");
}

TEST(structured_json, comments_and_trailing_commas_are_accepted) {
  const std::string doc = "// head\n{\"a\": [1, 2,], /* x */ \"b\": \"c\", } // tail";
  const auto out = json(doc, {{"b", "d"}});
  ASSERT_TRUE(out.parsed) << out.error;
  EXPECT_EQ(out.text, "// head\n{\"a\": [1, 2,], /* x */ \"b\": \"d\", } // tail");
}

TEST(structured_json, no_match_leaves_the_text_alone) {
  const std::string doc = " {\"a\" : [ 1 ,2 ] }\n";
  const auto out = json(doc, {{"b", "x"}, {"a:5", "x"}, {"", "x"}});
  EXPECT_TRUE(out.parsed);
  EXPECT_EQ(out.replaced, 0U);
  EXPECT_EQ(out.text, doc);
}

TEST(structured_json, scalar_roots_parse) {
  EXPECT_TRUE(json("  12 ", {}).parsed);
  EXPECT_TRUE(json("\"s\"", {}).parsed);
  EXPECT_TRUE(json("\xEF\xBB\xBFnull", {}).parsed);
}

TEST(structured_json, parse_errors_say_where_and_what) {
  const auto check = [](const std::string& doc, const std::string& error) {
    const auto out = json(doc, {{"a", "b"}});
    EXPECT_FALSE(out.parsed) << doc;
    EXPECT_EQ(out.error, error) << doc;
    EXPECT_TRUE(out.text.empty());
  };
  check("", "line 1, column 1: expected a JSON value");
  check("{\"a\": 1,,}", "line 1, column 9: expected a property name in double quotes");
  check("{\n  \"a\": tru\n}", "line 2, column 8: expected a JSON value");
  check("{\"é\": 1 \"b\": 2}", "line 1, column 9: expected ',' or '}'");
  check("[1 2]", "line 1, column 4: expected ',' or ']'");
  check("{\"a\" 1}", "line 1, column 6: expected ':'");
  check("{a: 1}", "line 1, column 2: expected a property name in double quotes");
  check("{\"a\": \"x", "line 1, column 9: expected '\"' to close the string");
  check("{\"a\": \"\\x\"}", "line 1, column 8: expected a valid escape sequence");
  check("{\"a\": \"\\u12\"}", "line 1, column 8: expected four hexadecimal digits after \\u");
  check("{\"a\": 01}", "line 1, column 8: expected ',' or '}'");
  check("{\"a\": 1.}", "line 1, column 9: expected a digit");
  check("{\"a\": -}", "line 1, column 8: expected a digit");
  check("{} x", "line 1, column 4: expected the end of the document");
  check("{\r\n\r\n /* x", "line 3, column 6: expected '*/' to close the comment");
  check("{\"a\":1,\n\"b\":}", "line 2, column 5: expected a JSON value");
  check("[,]", "line 1, column 2: expected a JSON value");
}

TEST(structured_json, nesting_is_limited_to_a_thousand_levels) {
  const std::string ok = std::string(1000, '[') + std::string(1000, ']');
  EXPECT_TRUE(json(ok, {{"0:0:0", "1"}}).parsed);
  const std::string deep = std::string(1001, '[') + std::string(1001, ']');
  const auto out = json(deep, {});
  EXPECT_FALSE(out.parsed);
  EXPECT_EQ(out.error, "line 1, column 1001: expected at most 1000 levels of nesting");
  const std::string very_deep(1000000, '[');
  EXPECT_FALSE(json(very_deep, {}).parsed);
}

// --- YAML
// ----------------------------------------------------------------------------------------------------

TEST(structured_yaml, replaces_a_nested_value_and_keeps_comments_and_layout) {
  const std::string doc =
      "# settings\n"
      "Logging:   # the logger\n"
      "  LogLevel:\n"
      "    Default: Debug   # was Info\n"
      "    System:    'Information'\n"
      "other: [a, b]  \n";
  const auto out = yaml(doc, {{"logging:loglevel:default", "Warning"}, {"Logging:LogLevel:System", "Error"}});
  ASSERT_TRUE(out.parsed) << out.error;
  EXPECT_EQ(out.replaced, 2U);
  EXPECT_EQ(out.text,
            "# settings\n"
            "Logging:   # the logger\n"
            "  LogLevel:\n"
            "    Default: Warning   # was Info\n"
            "    System:    'Error'\n"
            "other: [a, b]  \n");
}

TEST(structured_yaml, plain_scalars_keep_their_kind) {
  const std::string doc =
      "port: 80\n"
      "name: web\n"
      "enabled: true\n"
      "ratio: 0.5\n"
      "count: 3\n"
      "flag: false\n"
      "empty: ~\n"
      "word: x\n";
  const auto out = yaml(doc, {{"port", "8080"},
                              {"name", "123"},
                              {"enabled", "false"},
                              {"ratio", "high"},
                              {"count", "1e3"},
                              {"flag", "maybe"},
                              {"empty", "5"},
                              {"word", "yes"}});
  EXPECT_EQ(out.replaced, 8U);
  EXPECT_EQ(out.text,
            "port: 8080\n"
            "name: \"123\"\n"
            "enabled: false\n"
            "ratio: \"high\"\n"
            "count: 1e3\n"
            "flag: \"maybe\"\n"
            "empty: 5\n"
            "word: \"yes\"\n");
  const auto v = yaml_doc(out.text);
  EXPECT_EQ(v["port"], 8080);
  EXPECT_EQ(v["name"], "123");
  EXPECT_EQ(v["enabled"], false);
  EXPECT_EQ(v["ratio"], "high");
  EXPECT_EQ(v["word"], "yes");
}

TEST(structured_yaml, values_unsafe_as_plain_scalars_are_double_quoted) {
  const std::string doc = "a: x\nb: x\nc: x\nd: x\ne: x\nf: x\ng: x\nh: [x, y]\n";
  const auto out = yaml(doc, {{"a", "k: v"},
                              {"b", "#no"},
                              {"c", " padded"},
                              {"d", "two\nlines"},
                              {"e", "- item"},
                              {"f", ""},
                              {"g", "tab\there"},
                              {"h:0", "a,b"}});
  EXPECT_EQ(out.text,
            "a: \"k: v\"\nb: \"#no\"\nc: \" padded\"\nd: \"two\\nlines\"\ne: \"- item\"\nf: \"\"\n"
            "g: \"tab\\there\"\nh: [\"a,b\", y]\n");
  const auto v = yaml_doc(out.text);
  EXPECT_EQ(v["d"], "two\nlines");
  EXPECT_EQ(v["h"][0], "a,b");
}

TEST(structured_yaml, quoted_scalars_keep_their_quotes) {
  const std::string doc = "a: 'x'\nb: \"x\"\nc: 'x'\nd: \"multi\n  line\"\n";
  const auto out = yaml(doc, {{"a", "it's"}, {"b", "say \"hi\"\\ \x01"}, {"c", "a\nb"}, {"d", "one"}});
  EXPECT_EQ(out.text, "a: 'it''s'\nb: \"say \\\"hi\\\"\\\\ \\x01\"\nc: \"a\\nb\"\nd: \"one\"\n");
  const auto v = yaml_doc(out.text);
  EXPECT_EQ(v["a"], "it's");
  EXPECT_EQ(v["b"], "say \"hi\"\\ \x01");
  EXPECT_EQ(v["c"], "a\nb");
}

TEST(structured_yaml, block_scalars_become_literal_blocks_at_the_same_indentation) {
  const std::string doc =
      "a:\n"
      "  script: |  # keep me\n"
      "      echo hi\n"
      "\n"
      "  folded: >-\n"
      "    some\n"
      "    text\n"
      "  empty: |\n"
      "last: x\n";
  const auto out =
      yaml(doc, {{"a:script", "line 1\n  line 2\n"}, {"a:folded", "x\ny"}, {"a:empty", "e\n\n"}});
  ASSERT_TRUE(out.parsed);
  EXPECT_EQ(out.replaced, 3U);
  EXPECT_EQ(out.text,
            "a:\n"
            "  script: |  # keep me\n"
            "      line 1\n"
            "        line 2\n"
            "  folded: |-\n"
            "    x\n"
            "    y\n"
            "  empty: |+\n"
            "    e\n"
            "\n"
            "last: x\n");
  const auto v = yaml_doc(out.text);
  EXPECT_EQ(v["a"]["script"], "line 1\n  line 2\n");
  EXPECT_EQ(v["a"]["folded"], "x\ny");
  EXPECT_EQ(v["a"]["empty"], "e\n\n");
  EXPECT_EQ(v["last"], "x");
}

TEST(structured_yaml, a_comment_glued_to_a_block_header_gets_a_space) {
  // libfyaml reads "|+6#" as a header and a comment; the new header keeps the comment, after a space.
  // (Found by the structured_yaml fuzzer.)
  const std::string doc = "      a: |+6# c";
  const auto out = yaml(doc, {{"a", "x"}});
  ASSERT_TRUE(out.parsed);
  EXPECT_TRUE(out.warnings.empty()) << out.warnings.front();
  EXPECT_EQ(out.replaced, 1U);
  EXPECT_EQ(out.text, "      a: |- # c\n            x");  // where the indicator put the content
  EXPECT_EQ(yaml_doc(out.text)["a"], "x");
  const auto quoted = yaml(doc, {{"a", " lead"}});
  EXPECT_EQ(quoted.text, "      a: \" lead\" # c");
  EXPECT_EQ(yaml_doc(quoted.text)["a"], " lead");
}

TEST(structured_yaml, block_scalars_fall_back_to_double_quotes) {
  const std::string doc = "a: |\n  x\nb: >\n  y\nc: |\n  z\n";
  const auto out = yaml(doc, {{"a", " leading"}, {"b", std::nullopt}, {"c", "\n"}});
  EXPECT_EQ(out.text, "a: \" leading\"\nb: null\nc: \"\\n\"\n");
}

TEST(structured_yaml, anchors_and_tags_are_kept) {
  const std::string doc = "a: &x !!str 5\nb: *x\nc: !!int 7\nd: &m\n  k: v\n";
  const auto out = yaml(doc, {{"a", "6"}, {"c", "8"}, {"d:k", "w"}});
  EXPECT_EQ(out.text, "a: &x !!str 6\nb: *x\nc: !!int 8\nd: &m\n  k: w\n");
}

TEST(structured_yaml, aliases_can_be_replaced) {
  const auto out = yaml("base: &b 1\nport: *b\n", {{"port", "2"}});
  EXPECT_EQ(out.text, "base: &b 1\nport: 2\n");
}

TEST(structured_yaml, sequences_are_indexed) {
  const std::string doc =
      "servers:\n"
      "  - host: a\n"
      "    port: 1\n"
      "  - host: b\n"
      "list:\n"
      "- x\n"
      "- [y, z]\n";
  const auto out = yaml(doc, {{"Servers:1:Host", "c"}, {"list:0", "w"}, {"list:1:1", "q"}});
  EXPECT_EQ(out.replaced, 3U);
  EXPECT_EQ(out.text,
            "servers:\n"
            "  - host: a\n"
            "    port: 1\n"
            "  - host: c\n"
            "list:\n"
            "- w\n"
            "- [y, q]\n");
}

TEST(structured_yaml, mappings_are_replaced_by_a_yaml_fragment) {
  const std::string doc =
      "app:\n"
      "  db:   # database\n"
      "    host: old\n"
      "    port: 1\n"
      "  # trailing\n"
      "  flow: {a: 1}\n"
      "  seq:\n"
      "    - 1\n"
      "after: 1\n";
  const auto out = yaml(doc, {{"app:db", "{\"host\": \"new\", \"ports\": [1, 2]}"},
                              {"app:db:host", "ignored"},
                              {"app:flow", "b: [2, 3]\nc: x"},
                              {"app:seq", "- a\n- b: c\n  d: e"}});
  ASSERT_TRUE(out.parsed);
  EXPECT_EQ(out.replaced, 3U);
  EXPECT_EQ(out.text,
            "app:\n"
            "  db:   # database\n"
            "    \"host\": \"new\"\n"
            "    \"ports\":\n"
            "    - 1\n"
            "    - 2\n"
            "  # trailing\n"
            "  flow: {b: [2, 3], c: x}\n"
            "  seq:\n"
            "    - a\n"
            "    - b: c\n"
            "      d: e\n"
            "after: 1\n");
  const auto v = yaml_doc(out.text);
  EXPECT_EQ(v["app"]["db"], nlohmann::ordered_json::parse(R"({"host": "new", "ports": [1, 2]})"));
  EXPECT_EQ(v["app"]["seq"][1]["d"], "e");
  EXPECT_EQ(v["after"], 1);
}

TEST(structured_yaml, collections_take_scalars_and_unparsable_values_as_strings) {
  const std::string doc = "a:\n  b: 1\nc: [1]\nd:\n  e: 1\nf:\n  g: 1\n";
  const auto out = yaml(doc, {{"a", "plain"}, {"c", "'123'"}, {"d", "x: y: z"}, {"f", std::nullopt}});
  EXPECT_EQ(out.text, "a:\n  plain\nc: \"123\"\nd:\n  \"x: y: z\"\nf:\n  null\n");
  const auto v = yaml_doc(out.text);
  EXPECT_EQ(v["a"], "plain");
  EXPECT_EQ(v["c"], "123");
  EXPECT_EQ(v["d"], "x: y: z");
  EXPECT_EQ(v["f"], nullptr);
}

TEST(structured_yaml, a_fragment_that_does_not_fit_is_written_conservatively) {
  // The fragment's tag needs its %TAG directive, which the document does not have: written without tags.
  const std::string doc = "a: 1\nf: {a: 1}\nb: 2\n";
  const auto out =
      yaml(doc, {{"a", "3"}, {"f", "%TAG !e! tag:example.com,2000:\n---\n!e!foo {x: 1}"}, {"b", "4"}});
  EXPECT_EQ(out.replaced, 3U);
  EXPECT_TRUE(out.warnings.empty());
  EXPECT_EQ(out.text, "a: 3\nf: {x: 1}\nb: 4\n");
}

TEST(structured_yaml, single_pair_mappings_in_flow_sequences_are_replaced_whole) {
  const auto out = yaml("x: [a: 1, 'b': 2, c]\n", {{"x:0", "{z: 9}"}, {"x:1", "new"}, {"x:2", "d"}});
  EXPECT_EQ(out.replaced, 3U);
  EXPECT_EQ(out.text, "x: [{z: 9}, new, d]\n");
}

TEST(structured_yaml, an_indentless_sequence_replaced_by_a_mapping_moves_right) {
  const std::string doc = "key:\n- a\n- b\nnext: 1\n";
  const auto out = yaml(doc, {{"key", "x: 1\ny: 2"}});
  EXPECT_EQ(out.text, "key:\n  x: 1\n  y: 2\nnext: 1\n");
  const auto seq = yaml(doc, {{"key", "[c]"}});
  EXPECT_EQ(seq.text, "key:\n- c\nnext: 1\n");
}

TEST(structured_yaml, empty_values_get_a_value) {
  const std::string doc = "a:\nb: &x\nc:\n  -\n  - \nd: {e: , f}\n";
  const auto out =
      yaml(doc, {{"a", "1"}, {"b", "two"}, {"c:0", "x"}, {"c:1", std::nullopt}, {"d:e", "3"}, {"d:f", "4"}});
  ASSERT_TRUE(out.parsed) << out.error;
  EXPECT_EQ(out.replaced, 6U);
  EXPECT_EQ(out.text, "a: 1\nb: &x two\nc:\n  - x\n  - null \nd: {e: 3 , f: 4}\n");
}

TEST(structured_yaml, the_value_of_an_empty_key_gets_a_value) {
  const auto out = yaml("[? :]\n", {{"0:", "q"}});
  ASSERT_TRUE(out.parsed) << out.error;
  EXPECT_EQ(out.replaced, 1U);
  EXPECT_EQ(out.text, "[? : q]\n");
}

TEST(structured_yaml, a_collection_ending_where_cuttle_cannot_tell_is_left_alone) {
  // The explicit key's missing value has no position, so neither has the end of the sequence.
  const auto out = yaml("e:\n- ? k\n", {{"e", "x"}});
  EXPECT_EQ(out.replaced, 0U);
  EXPECT_EQ(out.text, "e:\n- ? k\n");
  ASSERT_EQ(out.warnings.size(), 1U);
  EXPECT_EQ(out.warnings[0],
            "Unable to set value for e. The node's text could not be located in the document.");
}

TEST(structured_yaml, every_document_of_a_stream_is_replaced) {
  const std::string doc = "%YAML 1.2\n---\nkind: A\nname: one\n...\n---\nkind: B\nname: two\n";
  const auto out = yaml(doc, {{"name", "three"}});
  EXPECT_EQ(out.replaced, 2U);
  EXPECT_EQ(out.text, "%YAML 1.2\n---\nkind: A\nname: three\n...\n---\nkind: B\nname: three\n");
}

TEST(structured_yaml, crlf_documents_stay_crlf) {
  const std::string doc = "a:\r\n  b: |\r\n    x\r\n  c:\r\n    d: 1\r\n";
  const auto out = yaml(doc, {{"a:b", "p\nq\n"}, {"a:c", "e: 2\nf: 3"}});
  EXPECT_EQ(out.text, "a:\r\n  b: |\r\n    p\r\n    q\r\n  c:\r\n    e: 2\r\n    f: 3\r\n");
}

TEST(structured_yaml, complex_keys_have_no_path) {
  const std::string doc = "? [a, b]\n: v\nplain: w\n";
  const auto out = yaml(doc, {{"a", "x"}, {"0", "x"}, {"plain", "z"}});
  EXPECT_EQ(out.replaced, 1U);
  EXPECT_EQ(out.text, "? [a, b]\n: v\nplain: z\n");
}

TEST(structured_yaml, octopus_variables_are_ignored_unless_they_are_paths) {
  const std::string doc = "OctopusX: 1\nOctopus:\n  Y: 2\n";
  const auto out = yaml(doc, {{"OctopusX", "9"}, {"octopus:y", "8"}});
  EXPECT_EQ(out.text, "OctopusX: 1\nOctopus:\n  Y: 8\n");
}

TEST(structured_yaml, no_match_leaves_the_text_alone) {
  const std::string doc = "a:   b # c\n\n\nlist: [1,   2]\n";
  const auto out = yaml(doc, {{"b", "x"}, {"list:2", "x"}});
  EXPECT_TRUE(out.parsed);
  EXPECT_EQ(out.replaced, 0U);
  EXPECT_EQ(out.text, doc);
}

TEST(structured_yaml, parse_errors_say_where_and_print_nothing) {
  testing::internal::CaptureStderr();
  const auto out = yaml("a: b\nc: \"unterminated\n", {{"a", "x"}});
  const auto bad = yaml("a: b: c\n", {});
  const std::string printed = testing::internal::GetCapturedStderr();
  EXPECT_FALSE(out.parsed);
  EXPECT_TRUE(out.text.empty());
  EXPECT_TRUE(out.error.starts_with("line 2, column ")) << out.error;
  EXPECT_FALSE(bad.parsed);
  EXPECT_TRUE(bad.error.starts_with("line 1, column ")) << bad.error;
  EXPECT_NE(bad.error.find("mapping"), std::string::npos) << bad.error;
  EXPECT_EQ(printed, "");
}

TEST(structured_yaml, single_quoted_keys_are_decoded_exactly) {
  // libfyaml 0.7.12 reads 'a''''b' as a''' and leaks formatting long runs; cuttle decodes these itself.
  const auto out = yaml("'a''''b': 1\n", {{"a''b", "2"}});
  EXPECT_EQ(out.text, "'a''''b': 2\n");
  const std::string long_key = "'x" + std::string(4000, '\'') + "'";
  const auto long_out = yaml(long_key + ": 'v''''w'\n", {{"x" + std::string(2000, '\''), "z"}});
  EXPECT_EQ(long_out.text, long_key + ": 'z'\n");
  const auto folded = yaml("? 'a  \n  b''c\n\n  d'\n: 1\n", {{"a b'c\nd", "2"}});
  EXPECT_EQ(folded.text, "? 'a  \n  b''c\n\n  d'\n: 2\n");
}

TEST(structured_yaml, a_tab_before_an_indicator_is_an_error_not_a_crash) {
  // libfyaml 0.7.12 crashes destroying a parser after this error in an explicit key.
  for (const std::string doc : {"? a:\t|", "? a:\t- x\n", "? a:\t?"}) {
    const auto out = yaml(doc, {});
    EXPECT_FALSE(out.parsed);
    EXPECT_NE(out.error.find("tab"), std::string::npos) << out.error;
  }
  const auto fragment = yaml("a: [1]\n", {{"a", "? a:\t|"}});
  EXPECT_EQ(fragment.text, "a: \"? a:\\t|\"\n");
}

TEST(structured_yaml, text_that_is_not_utf8_is_a_parse_error) {
  // libfyaml 0.7.12 loops forever on "%\x8B"; it never sees such text.
  const auto out = yaml("a: 1\n%\x8B\n", {{"a", "2"}});
  EXPECT_FALSE(out.parsed);
  EXPECT_EQ(out.error, "line 2, column 2: expected UTF-8 text");
}

TEST(structured_yaml, a_fragment_that_is_not_utf8_is_written_as_a_string) {
  const auto out = yaml("a: [1]\n", {{"a", "[\x8B]"}});
  EXPECT_EQ(out.text, "a: \"[\\uFFFD]\"\n");
}

TEST(structured_yaml, non_ascii_values_stay_utf8) {
  const auto out = yaml("a: x\nb: 'y'\n", {{"a", "café ü"}, {"b", "😀"}});
  EXPECT_EQ(out.text, "a: café ü\nb: '😀'\n");
}

// --- properties
// ------------------------------------------------------------------------------------------------

TEST(structured_properties, replaces_values_after_each_kind_of_separator) {
  const std::string doc =
      "# comment=1\n"
      "! other: comment\n"
      "a=1\n"
      "b : 2\n"
      "c   3\n"
      "  d\t=\t4   \n"
      "e=5\n";
  const auto out = props(doc, {{"a", "x"}, {"B", "y"}, {"c", "z"}, {"d", "w"}, {"comment", "no"}});
  EXPECT_EQ(out.replaced, 4U);
  EXPECT_EQ(out.text,
            "# comment=1\n"
            "! other: comment\n"
            "a=x\n"
            "b : y\n"
            "c   z\n"
            "  d\t=\tw\n"
            "e=5\n");
}

TEST(structured_properties, values_are_escaped_as_java_writes_them) {
  const auto out = props(
      "a=1\nb=2\nc=3\nd=4\n",
      {{"a", " lead\\ and\ttab\nnew\rcr\fff"}, {"b", "#not comment = : !"}, {"c", "é😀\x01"}, {"d", "!x"}});
  EXPECT_EQ(out.text,
            "a=\\ lead\\\\ and\\ttab\\nnew\\rcr\\fff\n"
            "b=\\#not comment = : !\n"
            "c=\\u00E9\\uD83D\\uDE00\\u0001\n"
            "d=\\!x\n");
  EXPECT_EQ(property(out.text, "a"), " lead\\ and\ttab\nnew\rcr\fff");
  EXPECT_EQ(property(out.text, "b"), "#not comment = : !");
  EXPECT_EQ(property(out.text, "c"), "é😀\x01");
}

TEST(structured_properties, continuation_lines_are_part_of_the_value) {
  const std::string doc =
      "list = one, \\\n"
      "       two, \\\n"
      "       three\n"
      "next = \\\\\n"
      "after=1\n";
  const auto out = props(doc, {{"list", "four"}, {"next", "x"}});
  EXPECT_EQ(out.text,
            "list = four\n"
            "next = x\n"
            "after=1\n");
}

TEST(structured_properties, a_value_on_a_continuation_line_takes_the_continuation_with_it) {
  const auto out = props("key = \\\n    value\nk2 \\\n  v2\n", {{"key", "new"}, {"k2", std::nullopt}});
  EXPECT_EQ(out.text, "key = new\nk2 \n");
  EXPECT_EQ(property(out.text, "key"), "new");
  EXPECT_EQ(property(out.text, "k2"), "");
}

TEST(structured_properties, keys_are_unescaped_and_may_start_on_a_continued_line) {
  const std::string doc =
      "my\\ key\\:x=1\n"
      "\\u0041bc = 2\n"
      "\\\n"
      "  joined\\\n"
      "  key=3\n";
  const auto out = props(doc, {{"my key:x", "a"}, {"abc", "b"}, {"joinedkey", "c"}});
  EXPECT_EQ(out.replaced, 3U);
  EXPECT_EQ(out.text,
            "my\\ key\\:x=a\n"
            "\\u0041bc = b\n"
            "\\\n"
            "  joined\\\n"
            "  key=c\n");
}

TEST(structured_properties, a_key_without_separator_gets_a_colon) {
  const auto out = props("alone\nspaced   \nlast", {{"alone", "1"}, {"spaced", "2"}, {"last", std::nullopt}});
  EXPECT_EQ(out.text, "alone:1\nspaced   2\nlast:");
  EXPECT_EQ(property(out.text, "alone"), "1");
  EXPECT_EQ(property(out.text, "spaced"), "2");
  EXPECT_EQ(property(out.text, "last"), "");
}

TEST(structured_properties, null_values_empty_the_value) {
  const auto out = props("a = x\n", {{"a", std::nullopt}});
  EXPECT_EQ(out.text, "a = \n");
}

TEST(structured_properties, octopus_variables_are_ignored) {
  const std::string doc = "OctopusX=1\noctopus:y=2\nOctopus=3\n";
  const auto out = props(doc, {{"OctopusX", "a"}, {"Octopus:y", "b"}, {"octopus", "c"}});
  EXPECT_EQ(out.replaced, 0U);
  EXPECT_EQ(out.text, doc);
}

TEST(structured_properties, duplicate_keys_are_all_replaced) {
  const auto out = props("a=1\nA=2\n", {{"a", "3"}});
  EXPECT_EQ(out.text, "a=3\nA=3\n");
}

TEST(structured_properties, line_endings_are_kept) {
  const std::string doc = "a=1\r\nb=2\\\r\n  more\r\nc=3\rd=4";
  const auto out = props(doc, {{"b", "x"}, {"d", "y"}, {"c", "z"}});
  EXPECT_EQ(out.text, "a=1\r\nb=x\r\nc=z\rd=y");
}

TEST(structured_properties, comments_are_not_continued) {
  const std::string doc = "# comment \\\na=1\n";
  const auto out = props(doc, {{"a", "2"}});
  EXPECT_EQ(out.text, "# comment \\\na=2\n");
}

TEST(structured_properties, a_lone_backslash_at_the_end_is_nothing) {
  const auto out = props("a=1\n\\", {{"", "x"}, {"a", "2"}});
  EXPECT_TRUE(out.parsed);
  EXPECT_EQ(out.text, "a=2\n\\");
}

TEST(structured_properties, malformed_unicode_escapes_are_parse_errors) {
  const auto out = props("a=1\nb = x\\u12G4\n", {{"a", "2"}});
  EXPECT_FALSE(out.parsed);
  EXPECT_EQ(out.error, "line 2, column 6: expected four hexadecimal digits after \\u");
  const auto key = props("é\\u00=1", {});
  EXPECT_FALSE(key.parsed);
  EXPECT_EQ(key.error, "line 1, column 2: expected four hexadecimal digits after \\u");
}

TEST(structured_properties, no_match_leaves_the_text_alone) {
  const std::string doc = "  # x\n\n a = b \\\n c\n";
  const auto out = props(doc, {{"b", "1"}});
  EXPECT_TRUE(out.parsed);
  EXPECT_EQ(out.replaced, 0U);
  EXPECT_EQ(out.text, doc);
}

TEST(structured_properties, empty_documents_parse) {
  const auto out = props("", {{"a", "1"}});
  EXPECT_TRUE(out.parsed);
  EXPECT_EQ(out.text, "");
}

// --- properties (RapidCheck)
// --------------------------------------------------------------------------------

std::string join(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += p;
  return s;
}

/// Strings from pieces that are awkward in every format.
rc::Gen<std::string> awkward_string() {
  static const std::vector<std::string> pieces = {
      "a",           "Z",    "0",    "1.5", " ",  "  ",  "\t",  "\n",  "\r",  "\\", "\"", "'",
      "#",           ":",    ": ",   "=",   "!",  "-",   "- ",  "?",   ",",   "[",  "]",  "{",
      "}",           "&",    "*",    "|",   ">",  "%",   "@",   "`",   "~",   "é",  "😀",  "\xC2\x85",
      "\x01",        "null", "true", "yes", "No", "0x1", "...", "---", "\\u", "/*", "//", "\xE2\x80\xA8",
      "\xEF\xBB\xBF"};
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(pieces)), join);
}

rc::Gen<std::string> key_name() {
  return rc::gen::map(
      rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::elementOf(std::string("abcXYZ_")))),
      [](std::string s) { return s; });
}

// JSON documents: random values with random white space and comments between the tokens.
rc::Gen<std::string> json_gap() {
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(
                          std::vector<std::string>{" ", "\n", "\r\n", "\t", "/*c*/", "//c\n"})),
                      join);
}

rc::Gen<std::string> json_scalar() {
  return rc::gen::oneOf(
      rc::gen::map(awkward_string(), [](const std::string& s) { return nlohmann::json(s).dump(); }),
      rc::gen::elementOf(std::vector<std::string>{"0", "-1.5e+3", "true", "false", "null", "\"\\u00e9\"",
                                                  "12345678901234567890123"}));
}

rc::Gen<std::string> json_value(int depth) {
  if (depth <= 0) return json_scalar();
  const auto member = rc::gen::apply(
      [](const std::string& k, const std::string& g1, const std::string& g2, const std::string& v) {
        return nlohmann::json(k).dump() + g1 + ":" + g2 + v;
      },
      key_name(), json_gap(), json_gap(), rc::gen::lazy([depth] { return json_value(depth - 1); }));
  const auto wrap = [](char open, char close) {
    return [open, close](const std::vector<std::string>& items, const std::string& gap) {
      std::string s(1, open);
      for (std::size_t k = 0; k < items.size(); ++k) s += (k ? "," : "") + gap + items[k] + gap;
      return s + close;
    };
  };
  return rc::gen::oneOf(
      json_scalar(),
      rc::gen::apply(wrap('{', '}'), rc::gen::container<std::vector<std::string>>(member), json_gap()),
      rc::gen::apply(wrap('[', ']'), rc::gen::container<std::vector<std::string>>(rc::gen::lazy([depth] {
                       return json_value(depth - 1);
                     })),
                     json_gap()));
}

/// Every path of a JSON value, with the value there.
void json_paths(const nlohmann::json& v, const std::string& path,
                std::vector<std::pair<std::string, nlohmann::json>>& out) {
  if (!path.empty()) out.emplace_back(path, v);
  const std::string prefix = path.empty() ? "" : path + ":";
  if (v.is_object()) {
    for (const auto& [k, child] : v.items()) json_paths(child, prefix + k, out);
  } else if (v.is_array()) {
    for (std::size_t k = 0; k < v.size(); ++k) json_paths(v[k], prefix + std::to_string(k), out);
  }
}

RC_GTEST_PROP(structured_props, json_without_matching_variables_is_unchanged, ()) {
  const std::string doc = *rc::gen::apply(
      [](const std::string& a, const std::string& v, const std::string& b) { return a + v + b; }, json_gap(),
      rc::gen::resize(12, json_value(3)), json_gap());
  const auto out = replace_json(doc, vars{{"no:such:path", "x"}, {"OctopusBogus", "y"}});
  RC_ASSERT(out.parsed);
  RC_ASSERT(out.replaced == 0U);
  RC_ASSERT(out.text == doc);
}

RC_GTEST_PROP(structured_props, json_string_values_round_trip, ()) {
  const std::string doc = *rc::gen::resize(12, json_value(3));
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(doc, nullptr, true, true);
  } catch (...) {
    RC_DISCARD("nlohmann rejects the document");
  }
  std::vector<std::pair<std::string, nlohmann::json>> paths;
  json_paths(parsed, "", paths);
  RC_PRE(!paths.empty());
  const auto& [path, old] = paths[*rc::gen::inRange<std::size_t>(0, paths.size())];
  const std::string value = *awkward_string();
  const auto out = replace_json(doc, vars{{path, value}});
  RC_ASSERT(out.parsed);
  RC_ASSERT(out.replaced + out.warnings.size() >= 1U);
  const auto back = nlohmann::json::parse(out.text, nullptr, true, true);
  std::vector<std::pair<std::string, nlohmann::json>> new_paths;
  json_paths(back, "", new_paths);
  for (const auto& [p, v] : new_paths) {
    if (p != path) continue;
    if (old.is_string() || old.is_null()) {
      // Invalid UTF-8 becomes U+FFFD; the pieces are valid UTF-8 except when joined mid-sequence (never).
      RC_ASSERT(v == nlohmann::json(value));
    } else if (old.is_object() || old.is_array()) {
      // Replaced by the value parsed as JSON, or unchanged with a warning.
      RC_ASSERT(out.warnings.size() + out.replaced >= 1U);
    }
  }
}

// YAML documents: block mappings and sequences with scalars in every style.
rc::Gen<std::string> yaml_scalar(bool flow) {
  const auto plain =
      rc::gen::elementOf(std::vector<std::string>{"x", "1", "-2.5", "true", "~", "a b", "é", "a:b"});
  const auto quoted = rc::gen::map(awkward_string(), [](const std::string& s) {
    std::string out = "\"";
    for (const char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      if (c == '\r') {
        out += "\\r";
        continue;
      }
      if (c == '\x01') {
        out += "\\x01";
        continue;
      }
      out += c;
    }
    return out + "\"";
  });
  const auto single = rc::gen::elementOf(std::vector<std::string>{"'s'", "'it''s'", "''", "'# x'"});
  if (flow) return rc::gen::oneOf(plain, quoted, single);
  const auto block = rc::gen::elementOf(std::vector<std::string>{
      "|\n{I}  line\n{I}  two\n", ">-\n{I}  folded\n", "|+ # c\n{I}  kept\n\n", "|\n"});
  return rc::gen::oneOf(plain, quoted, single, block);
}

std::string yaml_indent(std::string s, std::size_t indent) {
  const std::string pad(indent, ' ');
  for (std::size_t at = s.find("{I}"); at != std::string::npos; at = s.find("{I}", at)) s.replace(at, 3, pad);
  return s;
}

rc::Gen<std::string> yaml_block(std::size_t indent, int depth);

/// A value after "key:" (or "-"), ending with a line break.
rc::Gen<std::string> yaml_value(std::size_t indent, int depth) {
  const auto scalar = rc::gen::map(yaml_scalar(false), [indent](const std::string& s) {
    std::string v = " " + yaml_indent(s, indent);
    if (v.back() != '\n') v += "\n";
    return v;
  });
  const auto comment = rc::gen::elementOf(std::vector<std::string>{"", "  # note"});
  const auto flow = rc::gen::apply(
      [](const std::vector<std::string>& items, const std::string& c) {
        std::string s = " [";
        for (std::size_t k = 0; k < items.size(); ++k) s += (k ? ", " : "") + items[k];
        return s + "]" + c + "\n";
      },
      rc::gen::container<std::vector<std::string>>(yaml_scalar(true)), comment);
  if (depth <= 0) return rc::gen::oneOf(scalar, flow);
  const auto nested =
      rc::gen::map(rc::gen::lazy([indent, depth] { return yaml_block(indent + 2, depth - 1); }),
                   [](const std::string& b) { return "\n" + b; });
  return rc::gen::oneOf(scalar, flow, nested);
}

/// A block mapping or sequence at column `indent`, each entry ending with a line break.
rc::Gen<std::string> yaml_block(std::size_t indent, int depth) {
  const std::string pad(indent, ' ');
  // Keys are unique within a mapping (a letter run and the entry's number).
  const auto entry =
      rc::gen::apply([pad](const std::string& k, const std::string& v) { return pad + k + "{K}:" + v; },
                     key_name(), rc::gen::lazy([indent, depth] { return yaml_value(indent, depth); }));
  const auto item = rc::gen::map(rc::gen::lazy([indent, depth] { return yaml_value(indent, depth); }),
                                 [pad](const std::string& v) { return pad + "-" + v; });
  const auto comment_line = rc::gen::elementOf(std::vector<std::string>{"", "", pad + "# comment\n", "\n"});
  const auto lines = [](const std::vector<std::pair<std::string, std::string>>& entries) {
    std::string s;
    for (std::size_t k = 0; k < entries.size(); ++k) {
      std::string e = entries[k].second;
      const std::size_t at = e.find("{K}");
      if (at != std::string::npos) e.replace(at, 3, std::to_string(k));
      s += entries[k].first + e;
    }
    return s;
  };
  return rc::gen::oneOf(
      rc::gen::map(rc::gen::nonEmpty(rc::gen::container<std::vector<std::pair<std::string, std::string>>>(
                       rc::gen::pair(comment_line, entry))),
                   lines),
      rc::gen::map(rc::gen::nonEmpty(rc::gen::container<std::vector<std::pair<std::string, std::string>>>(
                       rc::gen::pair(comment_line, item))),
                   lines));
}

/// Every path to a scalar in a YAML document (as read back to JSON).
void scalar_paths(const nlohmann::ordered_json& v, const std::string& path, std::vector<std::string>& out) {
  const std::string prefix = path.empty() ? "" : path + ":";
  if (v.is_object()) {
    for (const auto& [k, child] : v.items()) scalar_paths(child, prefix + k, out);
  } else if (v.is_array()) {
    for (std::size_t k = 0; k < v.size(); ++k) scalar_paths(v[k], prefix + std::to_string(k), out);
  } else if (!path.empty()) {
    out.push_back(path);
  }
}

const nlohmann::ordered_json* at_path(const nlohmann::ordered_json& v, const std::string& path) {
  const nlohmann::ordered_json* cur = &v;
  std::size_t i = 0;
  while (i <= path.size()) {
    const std::size_t colon = std::min(path.find(':', i), path.size());
    const std::string seg = path.substr(i, colon - i);
    if (cur->is_object()) {
      if (!cur->contains(seg)) return nullptr;
      cur = &(*cur)[seg];
    } else if (cur->is_array()) {
      const std::size_t k = std::stoul(seg);
      if (k >= cur->size()) return nullptr;
      cur = &(*cur)[k];
    } else {
      return nullptr;
    }
    i = colon + 1;
  }
  return cur;
}

RC_GTEST_PROP(structured_props, yaml_without_matching_variables_is_unchanged, ()) {
  const std::string doc = *rc::gen::resize(10, yaml_block(0, 2));
  RC_PRE(read_yaml(doc).has_value());
  const auto out = replace_yaml(doc, vars{{"no:such", "x"}});
  RC_ASSERT(out.parsed);
  RC_ASSERT(out.replaced == 0U);
  RC_ASSERT(out.text == doc);
}

RC_GTEST_PROP(structured_props, yaml_string_values_round_trip, ()) {
  const std::string doc = *rc::gen::resize(10, yaml_block(0, 2));
  const auto before = read_yaml(doc);
  RC_PRE(before.has_value() && before->size() == 1);
  std::vector<std::string> paths;
  scalar_paths(before->front(), "", paths);
  RC_PRE(!paths.empty());
  const std::string path = *rc::gen::elementOf(paths);
  const std::string value = *awkward_string();
  const auto out = replace_yaml(doc, vars{{path, value}});
  RC_ASSERT(out.parsed);
  RC_ASSERT(out.warnings.empty());
  RC_ASSERT(out.replaced >= 1U);
  const auto after = read_yaml(out.text);
  RC_ASSERT(after.has_value());
  RC_ASSERT(after->size() == 1U);
  const auto* node = at_path(after->front(), path);
  RC_ASSERT(node != nullptr);
  // Plain scalars of other kinds may take the value plainly when it is of their kind; compare as text then.
  if (node->is_string()) {
    RC_ASSERT(node->get<std::string>() == value);
  } else {
    RC_ASSERT(node->dump() == resolve_plain(value).dump());
  }
}

bool ascii_iequals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k)
    if (std::tolower(static_cast<unsigned char>(a[k])) != std::tolower(static_cast<unsigned char>(b[k])))
      return false;
  return true;
}

// .properties documents: keys with escapes, all separators, comments, continuations, all line endings.
rc::Gen<std::string> properties_doc() {
  const auto eol = rc::gen::elementOf(std::vector<std::string>{"\n", "\r\n", "\r"});
  const auto sep = rc::gen::elementOf(std::vector<std::string>{"=", ":", " ", " = ", "\t:\t", "  "});
  const auto key =
      rc::gen::map(rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(
                       std::vector<std::string>{"a", "B", "\\ ", "\\=", "\\:", "\\u0041", "\\\\", "é"})),
                   join);
  const auto value =
      rc::gen::map(rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(std::vector<std::string>{
                       "v", " ", "=", ":", "#", "\\\\", "\\n", "\\u00e9", "\\\n   ", "\\\r\n", "é", "!"})),
                   join);
  const auto line = rc::gen::oneOf(
      rc::gen::apply([](const std::string& k, const std::string& s, const std::string& v,
                        const std::string& e) { return k + s + v + e; },
                     key, sep, value, eol),
      rc::gen::apply([](const std::string& c, const std::string& e) { return c + e; },
                     rc::gen::elementOf(std::vector<std::string>{"# c", "! c \\", "   ", "", "\t# x=y"}),
                     eol));
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(line), join);
}

RC_GTEST_PROP(structured_props, properties_without_matching_variables_are_unchanged, ()) {
  const std::string doc = *properties_doc();
  const auto out = replace_properties(doc, vars{{"no such key", "x"}});
  RC_ASSERT(out.parsed);
  RC_ASSERT(out.replaced == 0U);
  RC_ASSERT(out.text == doc);
}

RC_GTEST_PROP(structured_props, properties_values_round_trip, ()) {
  const std::string doc = *properties_doc();
  const auto entries = read_properties(doc);
  RC_PRE(!entries.empty());
  const std::string key = (*rc::gen::elementOf(entries)).first;
  const std::string value = *awkward_string();
  const auto out = replace_properties(doc, vars{{key, value}});
  RC_ASSERT(out.parsed);
  RC_ASSERT(out.replaced >= 1U);
  // Invalid UTF-8 never occurs in the pieces, so the value comes back exactly; other keys keep their values.
  const auto after = read_properties(out.text);
  RC_ASSERT(after.size() == entries.size());
  for (std::size_t k = 0; k < after.size(); ++k) {
    RC_ASSERT(after[k].first == entries[k].first);
    const bool same_key = ascii_iequals(after[k].first, key);
    RC_ASSERT(after[k].second == (same_key ? value : entries[k].second));
  }
}

}  // namespace

// Conformance: every vector of tests/conformance/octostache-cases.json (derived from Octostache's own tests)
// run through the engine as one parameterised test. Ids listed in tests/conformance/known-differences.txt
// must still fail, so a fixed vector forces its removal from the list.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "cuttle/engine.hpp"
#include "engine_helpers.hpp"

#ifndef CUTTLE_CONFORMANCE_DIR
#error "CUTTLE_CONFORMANCE_DIR must name the tests/conformance source directory"
#endif

namespace {

namespace eng = cuttle::engine;
using cuttle::test::describe;
using json = nlohmann::ordered_json;

constexpr std::size_t expected_vector_count = 811;

std::string conformance_path(const char* file) { return std::string(CUTTLE_CONFORMANCE_DIR) + "/" + file; }

/// All vectors, in file order (loaded once).
const std::vector<json>& all_vectors() {
  static const std::vector<json> vectors = [] {
    std::vector<json> out;
    std::ifstream in(conformance_path("octostache-cases.json"));
    if (!in) {
      std::cerr << "conformance_test: cannot open " << conformance_path("octostache-cases.json") << '\n';
      return out;
    }
    json doc = json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_array()) {
      std::cerr << "conformance_test: octostache-cases.json is not a JSON array\n";
      return out;
    }
    for (auto& v : doc) out.push_back(std::move(v));
    return out;
  }();
  return vectors;
}

/// id -> reason, from known-differences.txt (`<id> | <reason>`, `#` comments, blank lines ignored).
const std::map<std::string, std::string>& known_differences() {
  static const std::map<std::string, std::string> known = [] {
    std::map<std::string, std::string> out;
    std::ifstream in(conformance_path("known-differences.txt"));
    std::string line;
    auto trim = [](std::string s) {
      const auto not_space = [](unsigned char c) { return !std::isspace(c); };
      s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
      s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
      return s;
    };
    while (std::getline(in, line)) {
      line = trim(line);
      if (line.empty() || line.front() == '#') continue;
      const auto bar = line.find('|');
      std::string id = trim(line.substr(0, bar));
      std::string reason = bar == std::string::npos ? std::string() : trim(line.substr(bar + 1));
      out.emplace(std::move(id), std::move(reason));
    }
    return out;
  }();
  return known;
}

/// The test-name form of an id: every character outside [A-Za-z0-9_] becomes '_'.
std::string sanitise(const std::string& id) {
  std::string out = id;
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) != 0 && u < 0x80) && c != '_') c = '_';
  }
  return out;
}

std::vector<std::size_t> vector_indices() {
  std::vector<std::size_t> indices(all_vectors().size());
  for (std::size_t i = 0; i < indices.size(); ++i) indices[i] = i;
  return indices;
}

eng::variables make_variables(const json& v) {
  eng::variables vars;
  for (const auto& [name, value] : v.at("variables").items()) {
    if (value.is_null()) {
      vars.set(name, std::nullopt);
    } else {
      vars.set(name, value.get<std::string>());
    }
  }
  return vars;
}

std::string trim_whitespace(const std::string& s) {
  // .NET Trim() strips Unicode whitespace; the vectors that use `trim` only surround their output with ASCII.
  const auto not_space = [](unsigned char c) { return !(c == ' ' || (c >= '\t' && c <= '\r')); };
  auto begin = std::find_if(s.begin(), s.end(), not_space);
  auto end = std::find_if(s.rbegin(), s.rend(), not_space).base();
  return begin < end ? std::string(begin, end) : std::string();
}

/// Applies the vector's `postprocess` step(s) to an actual output.
std::string postprocess(const json& v, std::string text) {
  if (!v.contains("postprocess")) return text;
  std::vector<std::string> steps;
  if (v["postprocess"].is_array()) {
    for (const auto& s : v["postprocess"]) steps.push_back(s.get<std::string>());
  } else {
    steps.push_back(v["postprocess"].get<std::string>());
  }
  for (const auto& step : steps) {
    if (step == "remove_double_quotes") {
      std::erase(text, '"');
    } else if (step == "trim") {
      text = trim_whitespace(text);
    } else {
      ADD_FAILURE() << "unknown postprocess step '" << step << "'";
    }
  }
  return text;
}

eng::parse_options parse_options_for(const json& v) {
  eng::parse_options popts;
  popts.source_name = v.at("id").get<std::string>();
  popts.halt_on_error = v.value("halt_on_error", true);
  return popts;
}

/// `expected` (or `expected_one_of`) against the postprocessed output; null means the output must be null.
void check_output(const json& v, const eng::render_result& r) {
  const json& expected = v.at("expected");
  if (expected.is_null()) {
    EXPECT_FALSE(r.output.has_value()) << "expected a null result;" << describe(r);
    return;
  }
  ASSERT_TRUE(r.output.has_value()) << "expected " << expected.dump() << ", got a null result;"
                                    << describe(r);
  const std::string actual = postprocess(v, *r.output);
  if (v.contains("expected_one_of")) {
    std::vector<std::string> accepted;
    for (const auto& e : v["expected_one_of"]) accepted.push_back(e.get<std::string>());
    EXPECT_NE(std::find(accepted.begin(), accepted.end(), actual), accepted.end())
        << "output " << ::testing::PrintToString(actual) << " is none of " << v["expected_one_of"].dump()
        << describe(r);
  } else {
    EXPECT_EQ(actual, expected.get<std::string>()) << describe(r);
  }
  if (v.contains("raw_expected") && v["raw_expected"].is_string()) {
    EXPECT_EQ(*r.output, v["raw_expected"].get<std::string>())
        << "raw output before postprocessing" << describe(r);
  }
}

/// expected_error (exact or null), expected_error_nonempty and derived_error.
void check_error_text(const json& v, const eng::render_result& r) {
  if (v.contains("expected_error")) {
    if (v["expected_error"].is_null()) {
      EXPECT_EQ(r.octostache_error, "") << "expected no Octostache error" << describe(r);
    } else {
      EXPECT_EQ(r.octostache_error, v["expected_error"].get<std::string>()) << describe(r);
    }
  }
  if (v.value("expected_error_nonempty", false)) {
    EXPECT_NE(r.octostache_error, "") << "expected a non-empty Octostache error" << describe(r);
  }
  if (v.contains("derived_error") && v["derived_error"].is_string()) {
    EXPECT_EQ(r.octostache_error, v["derived_error"].get<std::string>()) << describe(r);
  }
}

void check_parse_ok(const json& v) {
  if (!v.contains("parse_ok")) return;
  const auto tpl = eng::compiled_template::parse(v.at("template").get<std::string>(), parse_options_for(v));
  EXPECT_EQ(tpl.parse_failed(), !v["parse_ok"].get<bool>()) << "parse_failed() for " << v["template"].dump();
}

void run_evaluate(const json& v) {
  const eng::variables vars = make_variables(v);
  const auto r = eng::evaluate(v.at("template").get<std::string>(), vars, parse_options_for(v));
  check_output(v, r);
  check_error_text(v, r);
}

void run_truthy(const json& v) {
  const eng::variables vars = make_variables(v);
  EXPECT_EQ(eng::evaluate_truthy(v.at("template").get<std::string>(), vars), v.at("expected").get<bool>());
}

void run_error(const json& v) {
  const eng::variables vars = make_variables(v);
  const auto r = eng::evaluate(v.at("template").get<std::string>(), vars, parse_options_for(v));
  if (v.contains("expected_exception")) {
    const std::string message = v["expected_exception"].at("message").get<std::string>();
    EXPECT_TRUE(r.failed) << "expected the render to fail (" << v["expected_exception"].value("type", "")
                          << ")" << describe(r);
    const bool found = std::any_of(r.diagnostics.begin(), r.diagnostics.end(), [&](const eng::diagnostic& d) {
      return d.severity == eng::severity::error && d.message == message;
    });
    EXPECT_TRUE(found) << "no error diagnostic with message " << ::testing::PrintToString(message)
                       << describe(r);
  } else if (!v.at("expected").is_null()) {
    check_output(v, r);
  }
  check_error_text(v, r);
  check_parse_ok(v);
}

/// The functions an `extensions` entry describes, keyed by lower-cased name.
std::optional<eng::filter_function> extension_function(const std::string& lower_name) {
  if (lower_name == "testfunc") {
    // "returns the input lower-cased (null if any options are given)"
    return [](const std::optional<std::string>& in,
              std::span<const std::string> opts) -> std::optional<std::string> {
      if (!in || !opts.empty()) return std::nullopt;
      std::string out = *in;
      for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return out;
    };
  }
  if (lower_name == "supercoolfunc") {
    // "maps each char c of the input to (ToUpper(c) - 64) as a decimal string, joined with '-'"
    return
        [](const std::optional<std::string>& in, std::span<const std::string>) -> std::optional<std::string> {
          if (!in) return std::nullopt;
          std::string out;
          for (char c : *in) {
            if (!out.empty()) out += '-';
            out += std::to_string(std::toupper(static_cast<unsigned char>(c)) - 64);
          }
          return out;
        };
  }
  return std::nullopt;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// Octostache's ParserFixture.EvaluateLotsOfTimesWithSet: 5000 indexed variables, 100 x (Set + Evaluate).
void run_evaluate_lots_of_times(const json& v) {
  eng::variables vars;
  for (int x = 0; x < 5000; ++x) {
    vars.set("Octopus.Step[" + std::to_string(x) + "].Action[" + std::to_string(x) + "]", "Value");
  }
  const std::string text = v.at("template").get<std::string>();
  // Octostache bounds this loop's time; cuttle measures speed in benchmarks, never in timed unit tests, so
  // only the results are checked here.
  for (int i = 0; i < 100; ++i) {
    vars.set("a", "a");
    const auto r = eng::evaluate(text, vars);
    ASSERT_TRUE(r.output.has_value()) << describe(r);
    ASSERT_EQ(*r.output, "#{foo}");
  }
}

/// The exact output of a clock-dependent `other` vector under the injected clock of run_other, by test name
/// and template (the vectors' notes say what each checks against the real clock).
std::optional<std::string> clock_vector_expectation(const std::string& test, const std::string& tpl) {
  if (test == "NowDateReturnsNow") return "2030-05-22T19:05:00.1234567";  // local, no offset suffix
  if (test == "NowDateCanBeFormatted") return "2030";
  if (test == "NowDateCanBeChained") return "May";
  if (test == "NowDateReturnsNowInUtc") return "2030-05-22T09:05:00.1234567Z";
  if (test == "NowDateUtcCanBeChained" && tpl.find("NowDateUtc") == std::string::npos) return "+10";
  if (test == "AddHoursCanBeChainedOffNowDate") return "2030-05-22T21:05:00.1234567";
  return std::nullopt;
}

void run_other(const json& v) {
  const std::string notes = v.value("notes", "");
  const std::string api = v.contains("api") && v["api"].is_string() ? v["api"].get<std::string>() : "";
  const bool has_template = v.contains("template") && v["template"].is_string();

  if (has_template && api.find("ToString()") != std::string::npos) {
    const auto tpl = eng::compiled_template::parse(v["template"].get<std::string>(), parse_options_for(v));
    if (v.at("expected").is_string()) {
      EXPECT_EQ(tpl.to_string(), v["expected"].get<std::string>());
    } else {
      // Only "it parses and prints something" can be expressed; per-token ToString() is not public API.
      EXPECT_FALSE(tpl.parse_failed());
      EXPECT_NE(tpl.to_string(), "");
    }
    return;
  }

  if (has_template && api.find("ParseTemplateAndGetArgumentNames") != std::string::npos) {
    const auto tpl = eng::compiled_template::parse(v["template"].get<std::string>(), parse_options_for(v));
    const auto names_list = tpl.argument_names();
    const std::set<std::string> names(names_list.begin(), names_list.end());
    std::string all;
    for (const auto& n : names_list) all += " '" + n + "'";
    for (const auto& name : v.value("expected_contains", json::array())) {
      EXPECT_TRUE(names.count(name.get<std::string>()))
          << "missing argument name '" << name.get<std::string>() << "'; got" << all;
    }
    for (const auto& name : v.value("expected_not_contains", json::array())) {
      EXPECT_FALSE(names.count(name.get<std::string>()))
          << "unexpected argument name '" << name.get<std::string>() << "'; got" << all;
    }
    return;
  }

  if (has_template && v.contains("extensions")) {
    eng::filter_registry registry;
    for (const auto& [name, description] : v["extensions"].items()) {
      auto fn = extension_function(lower(name));
      if (!fn)
        GTEST_SKIP() << "no test implementation for extension '" << name << "': " << description.dump();
      registry.add(name, std::move(*fn));
    }
    eng::render_options ropts;
    ropts.filters = &registry;
    const auto r =
        eng::evaluate(v["template"].get<std::string>(), make_variables(v), parse_options_for(v), ropts);
    check_output(v, r);
    return;
  }

  if (v.contains("checks") && v["checks"].is_array()) {
    int run = 0;
    std::vector<std::string> not_run;
    const eng::variables vars = make_variables(v);
    for (const auto& check : v["checks"]) {
      if (check.contains("haltOnError") && has_template) {
        eng::parse_options popts = parse_options_for(v);
        popts.halt_on_error = check["haltOnError"].get<bool>();
        const auto tpl = eng::compiled_template::parse(v["template"].get<std::string>(), popts);
        EXPECT_EQ(tpl.parse_failed(), !check.at("parse_ok").get<bool>())
            << "haltOnError=" << popts.halt_on_error;
        if (check.value("error_nonempty", false)) {
          EXPECT_FALSE(tpl.diagnostics().empty()) << "haltOnError=" << popts.halt_on_error;
        } else {
          for (const auto& d : tpl.diagnostics()) {
            EXPECT_NE(d.severity, eng::severity::error)
                << "haltOnError=" << popts.halt_on_error << ": " << ::testing::PrintToString(d);
          }
        }
        ++run;
        continue;
      }
      const std::string call = check.value("call", "");
      const auto& args = check.value("args", json::array());
      if (args.size() != 1 || !args[0].is_string()) {
        not_run.push_back(check.dump());
        continue;
      }
      const std::string name = args[0].get<std::string>();
      if (call == "Get" || call == "GetRaw") {
        const auto actual = call == "Get" ? vars.get(name) : vars.get_raw(name);
        if (check.at("expected").is_null()) {
          EXPECT_FALSE(actual.has_value()) << call << "(" << name << ")";
        } else {
          EXPECT_EQ(actual, std::optional<std::string>(check["expected"].get<std::string>()))
              << call << "(" << name << ")";
        }
        ++run;
      } else if (call == "Get(name, out error)" && check.contains("derived_value")) {
        // The error out-parameter has no counterpart in variables::get(); the value does.
        EXPECT_EQ(vars.get(name), std::optional<std::string>(check["derived_value"].get<std::string>()))
            << "Get(" << name << ")";
        ++run;
      } else {
        not_run.push_back(check.dump());
      }
    }
    if (run == 0) GTEST_SKIP() << "no check expressible with cuttle's API (" << api << "): " << notes;
    std::string skipped_checks;
    for (const auto& c : not_run) skipped_checks += (skipped_checks.empty() ? "" : "; ") + c;
    if (!skipped_checks.empty()) ::testing::Test::RecordProperty("not_expressible", skipped_checks);
    return;
  }

  if (has_template && v.contains("derived_output") && v["derived_output"].is_string()) {
    const auto r = eng::evaluate(v["template"].get<std::string>(), make_variables(v), parse_options_for(v));
    ASSERT_TRUE(r.output.has_value()) << describe(r);
    EXPECT_EQ(*r.output, v["derived_output"].get<std::string>()) << describe(r);
    return;
  }

  if (v.value("test", "") == "EvaluateLotsOfTimesWithSet") {
    run_evaluate_lots_of_times(v);
    return;
  }

  // Culture-dependent vectors: cuttle formats for en-US (docs/filters.md).
  if (has_template && v.contains("expected_by_culture") && v["expected_by_culture"].contains("en-US")) {
    const auto r = eng::evaluate(v["template"].get<std::string>(), make_variables(v), parse_options_for(v));
    ASSERT_TRUE(r.output.has_value()) << describe(r);
    EXPECT_EQ(*r.output, v["expected_by_culture"]["en-US"].get<std::string>()) << describe(r);
    return;
  }

  // Clock-dependent vectors: the clock is injected (2030-05-22T09:05:00.1234567Z, local zone UTC+10:00),
  // so the checks the notes describe become exact.
  if (const auto expected =
          has_template ? clock_vector_expectation(v.value("test", ""), v["template"].get<std::string>())
                       : std::nullopt) {
    eng::render_options ropts;
    ropts.clock.now = [] {
      return std::chrono::sys_days{std::chrono::year{2030} / 5 / 22} + std::chrono::hours{9} +
             std::chrono::minutes{5} + std::chrono::nanoseconds{123'456'700};
    };
    ropts.clock.local_offset = [](std::chrono::system_clock::time_point) { return std::chrono::hours{10}; };
    const auto r =
        eng::evaluate(v["template"].get<std::string>(), make_variables(v), parse_options_for(v), ropts);
    ASSERT_TRUE(r.output.has_value()) << describe(r);
    EXPECT_EQ(*r.output, *expected) << describe(r);
    return;
  }

  GTEST_SKIP() << "not applicable to cuttle" << (api.empty() ? "" : " (" + api + ")") << ": " << notes;
}

void run_vector(const json& v) {
  const std::string kind = v.at("kind").get<std::string>();
  if (kind == "evaluate") {
    run_evaluate(v);
  } else if (kind == "truthy") {
    run_truthy(v);
  } else if (kind == "error") {
    run_error(v);
  } else if (kind == "other") {
    run_other(v);
  } else {
    ADD_FAILURE() << "unknown vector kind '" << kind << "'";
  }
}

/// Appends `id` to the file named by CUTTLE_CONFORMANCE_DUMP (read by update-known-differences.py).
void dump_failure(const std::string& id) {
  const char* path = std::getenv("CUTTLE_CONFORMANCE_DUMP");
  if (path == nullptr || *path == '\0') return;
  std::ofstream out(path, std::ios::app);
  out << id << '\n';
}

class conformance_test : public ::testing::TestWithParam<std::size_t> {};

TEST_P(conformance_test, vector) {
  const json& v = all_vectors().at(GetParam());
  const std::string id = v.at("id").get<std::string>();
  RecordProperty("vector_id", id);

  // Run the checks with their results captured, so a listed known difference can be required to fail.
  ::testing::TestPartResultArray results;
  {
    ::testing::ScopedFakeTestPartResultReporter capture(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    try {
      run_vector(v);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "exception escaped the engine: " << e.what();
    } catch (...) {
      ADD_FAILURE() << "unknown exception escaped the engine";
    }
  }

  bool failed = false;
  std::string skip_message;
  bool skipped = false;
  for (int i = 0; i < results.size(); ++i) {
    const auto& part = results.GetTestPartResult(i);
    if (part.skipped()) {
      skipped = true;
      skip_message = part.message();
    } else if (part.failed()) {
      failed = true;
    }
  }

  const auto known = known_differences().find(id);
  if (failed) dump_failure(id);

  if (known != known_differences().end()) {
    if (skipped && !failed) {
      ADD_FAILURE() << "vector is skipped (" << skip_message << "); remove it from known-differences.txt";
    } else if (!failed) {
      ADD_FAILURE() << "vector now passes; remove it from known-differences.txt";
    } else {
      std::cout << "[ KNOWN    ] " << id << ": " << known->second << '\n';
      RecordProperty("known_difference", known->second);
    }
    return;
  }

  for (int i = 0; i < results.size(); ++i) {
    const auto& part = results.GetTestPartResult(i);
    if (!part.failed()) continue;
    if (part.file_name() != nullptr && part.line_number() >= 0) {
      ADD_FAILURE_AT(part.file_name(), part.line_number()) << "[" << id << "] " << part.message();
    } else {
      ADD_FAILURE() << "[" << id << "] " << part.message();
    }
  }
  if (skipped && !failed) GTEST_SKIP() << skip_message;
}

INSTANTIATE_TEST_SUITE_P(octostache, conformance_test, ::testing::ValuesIn(vector_indices()),
                         [](const ::testing::TestParamInfo<std::size_t>& param_info) {
                           return sanitise(all_vectors().at(param_info.param).at("id").get<std::string>());
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(conformance_test);

// The data file itself: the right size, unique ids (also after sanitising), and a known-differences list
// that only names existing vectors.
TEST(conformance_data, vectors_load_with_unique_ids) {
  const auto& vectors = all_vectors();
  ASSERT_EQ(vectors.size(), expected_vector_count)
      << "could not read " << conformance_path("octostache-cases.json");
  std::set<std::string> ids;
  std::set<std::string> names;
  for (const auto& v : vectors) {
    const std::string id = v.at("id").get<std::string>();
    EXPECT_TRUE(ids.insert(id).second) << "duplicate id " << id;
    EXPECT_TRUE(names.insert(sanitise(id)).second) << "duplicate test name for " << id;
  }
  for (const auto& [id, reason] : known_differences()) {
    EXPECT_TRUE(ids.count(id)) << "known-differences.txt names an unknown vector '" << id << "'";
    EXPECT_FALSE(reason.empty()) << "known-differences.txt gives no reason for '" << id << "'";
  }
}

}  // namespace

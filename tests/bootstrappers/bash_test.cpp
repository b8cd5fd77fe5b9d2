// The bash preamble run by the real interpreter: every helper's exact output, arguments, modules, exit codes.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "cuttle/bootstrappers/bootstrap.hpp"
#include "process.hpp"
#include "script_child.hpp"

namespace {

namespace bs = cuttle::bootstrappers;
using cuttle::engine::variables;
using cuttle::test::base64;
using cuttle::test::run_source;
using cuttle::test::script_result;
using cuttle::test::unbase64;

#define REQUIRE_BASH() \
  if (!cuttle::test::on_path("bash")) GTEST_SKIP() << "bash is not installed (not found on PATH)"

script_result run_bash(std::string_view source, const variables& vars = {},
                       const std::vector<std::string>& args = {}) {
  return run_source(bs::language::bash, source, vars, args);
}

std::vector<std::string> messages(const std::string& out) { return cuttle::test::service_messages(out); }
std::string attribute(const std::string& message, const std::string& attr) {
  return cuttle::test::message_attribute(message, attr);
}

TEST(bash_helpers, set_variable_matches_calamari) {
  REQUIRE_BASH();
  auto r = run_bash("set_octopusvariable \"Super\" \"Mario Bros\"\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "##octopus[setVariable name='U3VwZXI=' value='TWFyaW8gQnJvcw==']\n");
  EXPECT_EQ(r.err, "");
}

TEST(bash_helpers, sensitive_variable_matches_calamari) {
  REQUIRE_BASH();
  auto r = run_bash("set_octopusvariable \"Password\" \"correct horse battery staple\" -sensitive\n");
  EXPECT_EQ(r.out,
            "##octopus[setVariable name='UGFzc3dvcmQ=' value='Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==' "
            "sensitive='VHJ1ZQ==']\n");
}

TEST(bash_helpers, empty_value_is_sent) {
  REQUIRE_BASH();
  auto r = run_bash("set_octopusvariable Empty ''\nset_octopusvariable Empty2\n");
  EXPECT_EQ(
      r.out,
      "##octopus[setVariable name='RW1wdHk=' value='']\n##octopus[setVariable name='RW1wdHky' value='']\n");
}

TEST(bash_helpers, environment_state_and_url_match_calamari) {
  REQUIRE_BASH();
  auto r = run_bash(
      "set_environmentstate \"MyKey\" \"MyValue\"\n"
      "set_environmentstate \"SecretKey\" \"Secret Value\" -sensitive\n"
      "set_environmenturl \"MyEnvironment\" \"https://my-environment.example.com\"\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "##octopus[set-environmentstate key='TXlLZXk=' value='TXlWYWx1ZQ==' type='U3RhdGU=']\n"
            "##octopus[set-environmentstate key='U2VjcmV0S2V5' value='U2VjcmV0IFZhbHVl' sensitive='VHJ1ZQ==' "
            "type='U3RhdGU=']\n"
            "##octopus[set-environmentstate key='TXlFbnZpcm9ubWVudA==' "
            "value='aHR0cHM6Ly9teS1lbnZpcm9ubWVudC5leGFtcGxlLmNvbQ==' type='VXJs']\n");
}

TEST(bash_helpers, update_progress_matches_calamari) {
  REQUIRE_BASH();
  auto r = run_bash("update_progress 50 \"Half Way\"\nupdate_progress 0\n");
  EXPECT_EQ(r.out,
            "##octopus[progress percentage='NTA=' message='SGFsZiBXYXk=']\n"
            "##octopus[progress percentage='MA==' message='']\n");
}

TEST(bash_helpers, create_artifact_makes_the_path_absolute) {
  REQUIRE_BASH();
  auto r = run_bash(
      "mkdir -p subdir/anotherdir\nprintf 12345 > subdir/anotherdir/myfile\n"
      "new_octopusartifact subdir/anotherdir/myfile\nnew_octopusartifact ./missing.txt 'Display name.txt'\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto m = messages(r.out);
  std::vector<std::string> artifacts;
  for (const auto& x : m)
    if (x.rfind("##octopus[createArtifact ", 0) == 0) artifacts.push_back(x);
  ASSERT_EQ(artifacts.size(), 2u) << r.out;
  EXPECT_TRUE(std::regex_match(
      artifacts[0], std::regex(R"(##octopus\[createArtifact path='(\S+)' name='bXlmaWxl' length='NQ=='\])")))
      << artifacts[0];
  const auto path = attribute(artifacts[0], "path");
  EXPECT_EQ(path.front(), '/');
  EXPECT_TRUE(path.ends_with("/subdir/anotherdir/myfile")) << path;
  EXPECT_TRUE(r.out.find("Collecting subdir/anotherdir/myfile as an artifact...\n") != std::string::npos)
      << r.out;
  EXPECT_TRUE(path.ends_with("/subdir/anotherdir/myfile")) << path;
  EXPECT_TRUE(attribute(artifacts[1], "path").ends_with("/missing.txt"));
  EXPECT_EQ(attribute(artifacts[1], "name"), "Display name.txt");
  EXPECT_EQ(attribute(artifacts[1], "length"), "0");
}

TEST(bash_helpers, log_levels_are_bracketed_and_text_is_kept_verbatim) {
  REQUIRE_BASH();
  auto r = run_bash(
      "touch a b\nwrite_verbose '*  two  spaces'\nwrite_highlight one two\nwrite_wait ''\nwrite_warning "
      "'$HOME `x`'\n");
  EXPECT_EQ(r.out,
            "##octopus[stdout-verbose]\n*  two  spaces\n##octopus[stdout-default]\n"
            "##octopus[stdout-highlight]\none two\n##octopus[stdout-default]\n"
            "##octopus[stdout-wait]\n\n##octopus[stdout-default]\n"
            "##octopus[stdout-warning]\n$HOME `x`\n##octopus[stdout-default]\n");
}

TEST(bash_helpers, fail_step_exits_255_with_its_message) {
  REQUIRE_BASH();
  auto r = run_bash("fail_step \"Custom failure message\"\necho not reached\n");
  EXPECT_EQ(r.exit_code, bs::fail_step_exit_code);
  EXPECT_EQ(r.out, "##octopus[resultMessage message='Q3VzdG9tIGZhaWx1cmUgbWVzc2FnZQ==']\n");
  r = run_bash("fail_step\n");
  EXPECT_EQ(r.exit_code, 255);
  EXPECT_EQ(r.out, "");
}

TEST(bash_helpers, get_reads_values_and_missing_names_print_an_empty_line) {
  REQUIRE_BASH();
  variables vars;
  vars.set("Name", "Paul");
  vars.set("Nothing", std::nullopt);
  vars.set("Greeting", "Hello #{Name}");
  auto r = run_bash(
      "echo \"Hello\" $(get_octopusvariable \"Name\")\necho \"[$(get_octopusvariable Nothing)]\"\n"
      "echo \"[$(get_octopusvariable name)]\"\nget_octopusvariable Missing\nget_octopusvariable Greeting\n",
      vars);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Hello Paul\n[]\n[]\n\nHello Paul\n");
}

TEST(bash_helpers, set_is_seen_by_later_reads) {
  REQUIRE_BASH();
  variables vars;
  vars.set("Name", "Paul");
  auto r = run_bash(
      "set_octopusvariable Name Ringo >/dev/null\nget_octopusvariable Name\n"
      "set_octopusvariable Name '' >/dev/null\necho \"[$(get_octopusvariable Name)]\"\necho "
      "${octopus_parameters[Name]}\n",
      vars);
  EXPECT_EQ(r.out, "Ringo\n[]\n\n");
}

TEST(bash_helpers, helpers_work_under_strict_mode) {
  REQUIRE_BASH();
  variables vars;
  vars.set("Name", "Paul");
  auto r = run_bash(
      "set -euo pipefail\n"
      "x=$(get_octopusvariable Missing)\n"
      "set_octopusvariable \"Strict\" \"$(get_octopusvariable Name)\"\n"
      "set_octopusvariable Empty ''\n"
      "update_progress 1\n"
      "write_verbose\n"
      "new_octopusartifact nothing-here >/dev/null\n"
      "set_environmentstate k ''\n"
      "encode_servicemessagevalue '' >/dev/null\n"
      "decode_servicemessagevalue '' >/dev/null\n"
      "echo \"done${x}\"\n",
      vars);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.find("##octopus[setVariable name='U3RyaWN0' value='UGF1bA==']\n") != std::string::npos)
      << r.out;
  EXPECT_TRUE(r.out.ends_with("done\n")) << r.out;
}

TEST(bash_helpers, arguments_keep_spaces_and_quotes) {
  REQUIRE_BASH();
  const char* script = "echo \"Parameters (\\$1='${1-}' \\$2='${2-}') $#\"\n";
  auto r = run_bash(script, {}, {"Para meter0", "Para meter1"});
  EXPECT_EQ(r.out, "Parameters ($1='Para meter0' $2='Para meter1') 2\n");
  r = run_bash(script);
  EXPECT_EQ(r.out, "Parameters ($1='' $2='') 0\n");
  r = run_bash("printf '<%s>' \"$@\"\n", {}, {"it's", "\"q\"", "$(x)", "", "a\nb"});
  EXPECT_EQ(r.out, "<it's><\"q\"><$(x)><><a\nb>");
}

TEST(bash_helpers, script_sees_its_own_path) {
  REQUIRE_BASH();
  auto r = run_bash("echo \"${0##*/} ${BASH_SOURCE[0]##*/}\"\n");
  EXPECT_EQ(r.out, "script.sh script.sh\n");
}

TEST(bash_helpers, script_exit_code_passes_through) {
  REQUIRE_BASH();
  EXPECT_EQ(run_bash("exit 7\n").exit_code, 7);
  EXPECT_EQ(run_bash("false\n").exit_code, 1);
  EXPECT_EQ(run_bash("set -e\nfalse\necho no\n").out, "");
}

TEST(bash_helpers, script_module_is_sourced_by_name) {
  REQUIRE_BASH();
  variables vars;
  vars.set("Octopus.Script.Module[Say Hello]", "say_hello() {\r\n  echo \"Hello from module!\"\r\n}\r\n");
  vars.set("Octopus.Script.Module.Language[Say Hello]", "Bash");
  vars.set("Octopus.Script.Module[Other]", "function Say-Hello { }");  // PowerShell: not written
  auto r = run_bash("source SayHello.sh\nsay_hello\n", vars);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Hello from module!\n");
}

TEST(bash_helpers, octopus_parameters_enumerates_every_variable) {
  REQUIRE_BASH();
  variables vars;
  const std::vector<std::pair<std::string, std::string>> nasty = {{"Quotes'\"", "it's \"quoted\""},
                                                                  {"$(echo pwned)", "`echo pwned`"},
                                                                  {"Tab\tName", "tab\tvalue"},
                                                                  {"New\nLine", "line1\nline2\r\n"},
                                                                  {"Emoji 😀", "漢字 e\u0301"},
                                                                  {"RTL \u200F mark", "\x1b[31mred\x1b[0m"},
                                                                  {"  padded  ", "  padded  "},
                                                                  {"a=b=c=d", ""},
                                                                  {"*", "@"},
                                                                  {"k]", "[v"}};
  for (const auto& [n, v] : nasty) vars.set(n, v);
  auto r = run_bash(
      "for k in \"${!octopus_parameters[@]}\"; do set_octopusvariable \"$k\" \"${octopus_parameters[$k]}\"; "
      "done\n"
      "echo 'Still ran this script'\n",
      vars);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> seen;
  for (const auto& m : messages(r.out)) seen[attribute(m, "name")] = attribute(m, "value");
  EXPECT_EQ(seen.size(), nasty.size());
  for (const auto& [n, v] : nasty) EXPECT_EQ(seen[n], v) << n;
  EXPECT_TRUE(r.out.ends_with("Still ran this script\n"));
}

TEST(bash_helpers, octopus_parameters_is_only_built_when_mentioned) {
  REQUIRE_BASH();
  variables vars;
  vars.set("A", "1");
  // The name is spelled in two parts: the plan looks for the whole word in the script's text.
  EXPECT_EQ(run_bash("n=octopus_; n+=parameters\n"
                     "echo \"$(get_octopusvariable A) $(declare -p \"$n\" 2>/dev/null || echo absent)\"\n",
                     vars)
                .out,
            "1 absent\n");
}

TEST(bash_helpers, encode_and_decode_round_trip) {
  REQUIRE_BASH();
  auto r = run_bash(
      "e=$(encode_servicemessagevalue \"$1\")\necho \"$e\"\nd=$(decode_servicemessagevalue \"$e\"; printf "
      "x)\n"
      "[ \"${d%x}\" = \"$1\" ] && echo same\n",
      {}, {"Héllo 😀 \n\t$`'\"%\\"});
  EXPECT_EQ(r.out, base64("Héllo 😀 \n\t$`'\"%\\") + "\nsame\n");
}

TEST(bash_helpers, large_values_are_encoded_exactly) {
  REQUIRE_BASH();
  std::string small;
  std::string large;
  for (int i = 0; i < 300; ++i) small += "é\t" + std::to_string(i) + "'";
  for (int i = 0; i < 6000; ++i) large += "é\t" + std::to_string(i) + "'";
  variables vars;
  vars.set("Small", small);
  vars.set("Large", large);
  auto r = run_bash(
      "v=$(get_octopusvariable Small); set_octopusvariable Small \"$v\"\n"
      "v=$(get_octopusvariable Large); set_octopusvariable Large \"$v\"\n",
      vars);
  EXPECT_EQ(r.out, "##octopus[setVariable name='" + base64("Small") + "' value='" + base64(small) + "']\n" +
                       "##octopus[setVariable name='" + base64("Large") + "' value='" + base64(large) +
                       "']\n");
}

TEST(bash_helpers, invalid_utf8_bytes_round_trip) {
  REQUIRE_BASH();
  variables vars;
  vars.set("Bytes", "\xff\xfe ok \xc3");
  auto r = run_bash("set_octopusvariable Bytes \"$(get_octopusvariable Bytes)\"\n", vars);
  EXPECT_EQ(r.out, "##octopus[setVariable name='Qnl0ZXM=' value='" + base64("\xff\xfe ok \xc3") + "']\n");
}

TEST(bash_channel, descriptor_is_closed_and_variable_removed_before_the_script) {
  REQUIRE_BASH();
  variables vars;
  vars.set("Secret", "s3cr3t-value");
  auto r = run_bash(
      "echo \"env:${CUTTLE_VARIABLES_FD-unset}\"\n"
      "env | grep -c '^CUTTLE_VARIABLES_FD=' || true\n"
      "[ -e /proc/$$/fd/3 ] && echo fd3-open || echo fd3-closed\n"
      // The bootstrap and the loader came as descriptors 4 and 5: closed too.
      "for n in 4 5; do [ -e /proc/$$/fd/$n ] && echo fd$n-open || echo fd$n-closed; done\n"
      "ls -l /proc/$$/fd/ | grep -c memfd:cuttle-variables || true\n"
      // What is left is Bash's own close-on-exec descriptor for the bootstrap it is running: code only.
      "ls -l /proc/$$/fd/ | grep memfd | sed 's/.*-> //'\n",
      vars);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "env:unset\n0\nfd3-closed\nfd4-closed\nfd5-closed\n0\n/memfd:cuttle-bootstrap.sh (deleted)\n");
}

TEST(bash_channel, any_descriptor_number_works) {
  REQUIRE_BASH();
  variables vars;
  vars.set("Name", "Paul");
  cuttle::test::script_options options;
  options.channel_fd = 57;
  auto r = run_source(bs::language::bash, "get_octopusvariable Name\n[ -e /proc/$$/fd/57 ] || echo closed\n",
                      vars, {}, options);
  EXPECT_EQ(r.out, "Paul\nclosed\n");
}

TEST(bash_channel, missing_channel_means_no_variables_and_a_bad_one_fails) {
  REQUIRE_BASH();
  cuttle::test::script_options options;
  options.with_channel = false;
  auto r = run_source(bs::language::bash, "echo \"[$(get_octopusvariable Name)]\"\n", {}, {}, options);
  EXPECT_EQ(r.out, "[]\n");
  options.env = {"CUTTLE_VARIABLES_FD=99"};
  r = run_source(bs::language::bash, "echo ran\n", {}, {}, options);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "cuttle: cannot read the variables channel (descriptor 99)\n");
  // A closed descriptor and a payload that is not cuttle's, through whichever reader this Bash uses.
  cuttle::test::expect_bad_channels_refused(bs::language::bash, "s.sh", "echo ran\n", 98);
}

// The channel is read by cuttle's loadable builtin when this Bash can load it, and by mapfile when the
// loader is missing or cannot be loaded; the script sees exactly the same variables either way, through
// get_octopusvariable and octopus_parameters, and the loader is gone before the script starts.
// A payload of 4 MB or more makes the loader grow Bash's heap in huge pages first; the values must come
// through intact, and the script's own allocations afterwards must still work.
TEST(bash_channel, a_large_payload_loads_intact) {
  REQUIRE_BASH();
  variables vars;
  for (int i = 0; i < 100; ++i) {
    std::string value(60000, static_cast<char>('a' + i % 26));
    value += "#" + std::to_string(i);
    vars.set("Big" + std::to_string(i), value);
  }
  auto r = run_bash(
      "echo \"$__cuttle_channel_reader\"\n"
      "for i in 0 37 99; do v=$(get_octopusvariable \"Big$i\"); echo \"${#v} ${v:0:3} ${v: -3}\"; done\n"
      "big=$(printf 'z%.0s' {1..200000}); echo ${#big}\n",
      vars);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const bool loader = r.out.starts_with("loader\n");
  EXPECT_EQ(r.out, std::string(loader ? "loader" : "mapfile") +
                       "\n60002 aaa a#0\n60003 lll #37\n60003 vvv #99\n200000\n");
}

TEST(bash_channel, the_loader_and_mapfile_give_the_same_variables) {
  REQUIRE_BASH();
  variables vars;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Name", "Paul"},
      {"Empty", ""},
      {"", "empty name"},
      {"Lines", "one\ntwo\r\nthree\n"},
      {"Quotes", "'\"$HOME`id`\\ %s \t\u200f\xF0\x9F\x90\x99 \x1b[31m"},
      {"k]", "[v"},
      {"$(echo pwned)", "${x}"},
      {"Invalid", "\xFF\xFE-not-utf8"},
      {"Large", std::string(70000, 'x') + "end"}};
  std::vector<std::string> names{"Missing"};
  for (const auto& [n, v] : cases) {
    vars.set(n, v);
    names.push_back(n);
  }
  const auto payload = bs::encode_variables(vars);
  ASSERT_TRUE(payload.error.empty()) << payload.error;
  cuttle::test::temp_dir work;
  const auto script =
      work.write("script.sh",
                 "echo \"reader=$__cuttle_channel_reader\"\n"
                 "type -t __cuttle_load_channel || echo 'builtin gone'\n"
                 "for n in \"$@\"; do\n"
                 "  v=$(get_octopusvariable \"$n\"; printf x)\n"
                 "  printf '[%s]' \"${v%$'\\n'x}\"\n"
                 "  if [ -n \"$n\" ]; then printf '{%s}\\n' \"${octopus_parameters[$n]-unset}\"; fi\n"
                 "done\n");
  const auto plan = bs::plan_launch(bs::language::bash, script, names, vars);
  const auto loader = std::find_if(plan.files.begin(), plan.files.end(),
                                   [](const auto& f) { return f.name == "cuttle-channel-loader.so"; });
  if (loader == plan.files.end())
    GTEST_SKIP()
        << "this build has no Bash channel loader (Bash's headers, Debian bash-builtins, were not found)";
  // Without a loader, as a build without Bash's headers plans it: no file, an empty loader argument.
  auto without = plan;
  without.files.erase(without.files.begin() + (loader - plan.files.begin()));
  std::replace(without.argv.begin(), without.argv.end(), bs::inherited_placeholder(loader->name),
               std::string());
  auto corrupt = plan;
  corrupt.files[static_cast<std::size_t>(loader - plan.files.begin())].content =
      "\x7f"
      "ELF not really a shared object";

  const auto with_loader = cuttle::test::run_plan(plan, payload.data);
  const auto with_mapfile = cuttle::test::run_plan(without, payload.data);
  const auto with_corrupt = cuttle::test::run_plan(corrupt, payload.data);
  for (const auto* r : {&with_loader, &with_mapfile, &with_corrupt}) {
    EXPECT_EQ(r->exit_code, 0) << r->err;
    EXPECT_EQ(r->err, "");
  }
  const std::string expected =
      "builtin gone\n[]{unset}\n[Paul]{Paul}\n[]{}\n[empty name][one\ntwo\r\nthree\n]{one\ntwo\r\nthree\n}\n"
      "['\"$HOME`id`\\ %s \t\u200f\xF0\x9F\x90\x99 \x1b[31m]{'\"$HOME`id`\\ %s \t\u200f\xF0\x9F\x90\x99 "
      "\x1b[31m}\n[[v]{[v}\n[${x}]{${x}}\n[\xFF\xFE-not-utf8]{\xFF\xFE-not-utf8}\n[" +
      std::string(70000, 'x') + "end]{" + std::string(70000, 'x') + "end}\n";
  EXPECT_EQ(with_loader.out, "reader=loader\n" + expected);
  EXPECT_EQ(with_mapfile.out, "reader=mapfile\n" + expected);
  EXPECT_EQ(with_corrupt.out, "reader=mapfile\n" + expected);
}

// Random names and values from the awkward character classes read back exactly through get and
// octopus_parameters, and set back exactly.
std::string awkward_text() { return cuttle::test::awkward_text({"-sensitive", "-"}); }

RC_GTEST_PROP(bash_props, names_and_values_round_trip, ()) {
  if (!cuttle::test::on_path("bash")) return;
  const auto name = awkward_text();
  const auto value = awkward_text();
  variables vars;
  for (int i = 0, n = *rc::gen::inRange(0, 6); i < n; ++i) vars.set(awkward_text(), awkward_text());
  vars.set(name, value);
  RC_PRE(vars.find(name) != nullptr && vars.find(name)->name == name);
  const auto expected = vars.get(name).value_or("");
  auto r = run_bash(
      "v=$(get_octopusvariable \"$1\"; printf x)\nset_octopusvariable \"$1\" \"${v%$'\\n'x}\"\n"
      "if [ -n \"$1\" ]; then set_octopusvariable \"$1\" \"${octopus_parameters[$1]}\" -sensitive; fi\n",
      vars, {name});
  RC_ASSERT(r.exit_code == 0);
  const auto m = messages(r.out);
  RC_ASSERT(m.size() == (name.empty() ? 1u : 2u));
  for (const auto& x : m) {
    RC_ASSERT(attribute(x, "name") == name);
    RC_ASSERT(attribute(x, "value") == expected);
  }
}

}  // namespace

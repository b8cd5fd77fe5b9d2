// The `cuttle` command line, run as a real process in fresh temporary directories: render and eval,
// variable sources and their order, --output and --strict, stdin, diagnostics on stderr, exit codes,
// masking of sensitive values, and the help texts.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "process.hpp"

#ifndef CUTTLE_EXE
#error "CUTTLE_EXE must name the cuttle executable"
#endif

namespace {

using cuttle::test::process_result;
using cuttle::test::read_text;
using cuttle::test::run_process;
using cuttle::test::temp_dir;

process_result cuttle_run(std::vector<std::string> args, std::string_view input = {}) {
  args.insert(args.begin(), CUTTLE_EXE);
  return run_process(args, input);
}

using cuttle::test::contains;
using cuttle::test::describe;

TEST(cli_render, renders_a_file_with_variables_to_stdout) {
  temp_dir dir;
  const auto tpl = dir.write("app.config", "Server=#{Server | ToUpper}; Port=#{Port}\n");
  const auto vars = dir.write("vars.json", R"({"Server": "web01", "Port": 10933})");
  const auto r = cuttle_run({"render", "--variables", vars, tpl});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "Server=WEB01; Port=10933\n") << describe(r);
  EXPECT_EQ(r.err, "") << describe(r);
}

TEST(cli_render, later_variable_sources_override_earlier_ones) {
  temp_dir dir;
  const auto tpl = dir.write("t.txt", "#{A}#{B}#{C}#{D}");
  const auto first = dir.write("first.json", R"({"A": "1", "B": "1", "C": "1", "D": "1"})");
  const auto second = dir.write("second.json", R"({"b": "2", "C": "2"})");
  const auto r = cuttle_run({"render", "--set", "D=0", "--variables", first, "--variables", second, "--set",
                             "C=3", "--set", "D=a=b", tpl});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "123a=b") << describe(r);
}

TEST(cli_render, output_file_is_written_and_stdout_stays_empty) {
  temp_dir dir;
  const auto tpl = dir.write("t.txt", "Hello #{Name}");
  const auto out = (dir.path() / "out.txt").string();
  const auto r = cuttle_run({"render", "--set", "Name=World", "--output", out, tpl});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "") << describe(r);
  EXPECT_EQ(read_text(out), "Hello World");

  const auto short_flag = cuttle_run({"render", "--set", "Name=Again", "-o", out, tpl});
  EXPECT_EQ(short_flag.exit_code, 0) << describe(short_flag);
  EXPECT_EQ(read_text(out), "Hello Again");
}

TEST(cli_render, strict_failure_creates_no_output_file) {
  temp_dir dir;
  const auto tpl = dir.write("t.txt", "Hello #{Missing}");
  const auto out = (dir.path() / "out.txt").string();
  const auto r = cuttle_run({"render", "--strict", "--output", out, tpl});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_FALSE(std::filesystem::exists(out));
  // No temporary file is left behind either.
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"t.txt"}));
}

TEST(cli_render, strict_failure_leaves_an_existing_output_file_untouched) {
  temp_dir dir;
  const auto tpl = dir.write("t.txt", "Hello #{Missing}");
  const auto out = dir.write("out.txt", "previous content\n");
  const auto r = cuttle_run({"render", "--strict", "-o", out, tpl});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_EQ(read_text(out), "previous content\n");
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"out.txt", "t.txt"}));
}

TEST(cli_render, reads_the_template_from_stdin) {
  const auto dash = cuttle_run({"render", "--set", "Name=stdin", "-"}, "from #{Name}\n");
  EXPECT_EQ(dash.exit_code, 0) << describe(dash);
  EXPECT_EQ(dash.out, "from stdin\n") << describe(dash);

  const auto implicit = cuttle_run({"render", "--set", "Name=stdin"}, "from #{Name}\n");
  EXPECT_EQ(implicit.exit_code, 0) << describe(implicit);
  EXPECT_EQ(implicit.out, "from stdin\n") << describe(implicit);
}

TEST(cli_render, missing_variable_is_a_positioned_warning_with_exit_zero) {
  temp_dir dir;
  const auto tpl = dir.write("t.txt", "a\n  #{Missing}\n");
  const auto r = cuttle_run({"render", tpl});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "a\n  #{Missing}\n") << describe(r);
  EXPECT_TRUE(contains(r.err, tpl + ":2:3: warning")) << describe(r);
}

TEST(cli_render, strict_turns_warnings_into_exit_two_with_empty_stdout) {
  temp_dir dir;
  const auto tpl = dir.write("t.txt", "a\n  #{Missing}\n");
  const auto r = cuttle_run({"render", "--strict", tpl});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_EQ(r.out, "") << describe(r);
  EXPECT_TRUE(contains(r.err, tpl + ":2:3:")) << describe(r);
}

TEST(cli_render, halting_mode_and_continue_on_error) {
  temp_dir dir;
  const auto tpl = dir.write("t.txt", "#{Name} #{!}");
  const auto halting = cuttle_run({"render", "--set", "Name=N", tpl});
  EXPECT_EQ(halting.exit_code, 0) << describe(halting);
  EXPECT_EQ(halting.out, "#{Name} #{!}") << describe(halting);
  EXPECT_TRUE(contains(halting.err, tpl + ":1:9: warning")) << describe(halting);

  const auto continuing = cuttle_run({"render", "--continue-on-error", "--set", "Name=N", tpl});
  EXPECT_EQ(continuing.exit_code, 0) << describe(continuing);
  EXPECT_EQ(continuing.out, "N #{!}") << describe(continuing);
}

TEST(cli_render, invalid_variables_json_names_file_line_and_column) {
  temp_dir dir;
  const auto tpl = dir.write("t.txt", "#{a}");
  const auto vars = dir.write("bad.json", "{\n  \"a\": 1,\n  \"b\": ]\n}");
  const auto r = cuttle_run({"render", "--variables", vars, tpl});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_EQ(r.out, "") << describe(r);
  EXPECT_TRUE(contains(r.err, vars + ":3:8")) << describe(r);
}

TEST(cli_render, non_object_variables_file_is_an_error) {
  temp_dir dir;
  const auto tpl = dir.write("t.txt", "#{a}");
  const auto vars = dir.write("array.json", "[1, 2]");
  const auto r = cuttle_run({"render", "--variables", vars, tpl});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_TRUE(contains(r.err, vars)) << describe(r);
}

TEST(cli_render, missing_variables_file_is_an_error) {
  temp_dir dir;
  const auto tpl = dir.write("t.txt", "#{a}");
  const auto missing = (dir.path() / "nope.json").string();
  const auto r = cuttle_run({"render", "--variables", missing, tpl});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_TRUE(contains(r.err, missing)) << describe(r);
}

TEST(cli_render, unreadable_template_is_an_error) {
  temp_dir dir;
  const auto missing = (dir.path() / "nope.txt").string();
  const auto r = cuttle_run({"render", missing});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_EQ(r.out, "") << describe(r);
  EXPECT_TRUE(contains(r.err, missing)) << describe(r);

  const auto directory = cuttle_run({"render", dir.path().string()});
  EXPECT_EQ(directory.exit_code, 2) << describe(directory);
  EXPECT_EQ(directory.out, "") << describe(directory);
}

TEST(cli_render, fatal_template_errors_exit_two) {
  const auto r = cuttle_run({"eval", "--set", "Foo=#{Foo}", "#{Foo}"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_EQ(r.out, "") << describe(r);
  EXPECT_TRUE(contains(r.err, "self referencing loop")) << describe(r);
}

TEST(cli_render, bad_usage_exits_two) {
  EXPECT_EQ(cuttle_run({"render", "--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(cuttle_run({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(cuttle_run({"render", "--variables"}).exit_code, 2);
  EXPECT_EQ(cuttle_run({"eval", "--set", "NoEquals", "x"}).exit_code, 2);
}

TEST(cli_render, strict_filter_failure_exits_two_and_names_the_position) {
  temp_dir dir;
  const auto tpl = dir.write("t.txt", "line one\n  #{X | FromBase64}\n");
  const auto vars = dir.write("vars.json", R"({"X": "not base64!"})");
  const auto r = cuttle_run({"render", "--strict", "--variables", vars, tpl});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_EQ(r.out, "") << describe(r);
  EXPECT_TRUE(contains(r.err, tpl + ":2:3: error[E004]")) << describe(r);
  EXPECT_TRUE(contains(r.err, "not valid base64")) << describe(r);
}

TEST(cli_render, filter_failure_without_strict_echoes_the_token_and_warns) {
  temp_dir dir;
  const auto tpl = dir.write("t.txt", "line one\n  #{X | FromBase64}\n");
  const auto vars = dir.write("vars.json", R"({"X": "not base64!"})");
  const auto r = cuttle_run({"render", "--variables", vars, tpl});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "line one\n  #{X | FromBase64}\n") << describe(r);
  EXPECT_TRUE(contains(r.err, tpl + ":2:3: warning[E004]")) << describe(r);
}

TEST(cli_eval, md5_of_a_variable) {
  const auto r = cuttle_run({"eval", "--set", "X=The quick brown fox jumps over the lazy dog", "#{X | Md5}"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "9e107d9d372bb6826bd81d3542a419d6") << describe(r);
  EXPECT_EQ(r.err, "") << describe(r);

  const auto empty = cuttle_run({"eval", "--set", "X=", "#{X | Md5}"});
  EXPECT_EQ(empty.exit_code, 0) << describe(empty);
  EXPECT_EQ(empty.out, "d41d8cd98f00b204e9800998ecf8427e") << describe(empty);
}

TEST(cli_eval, renders_the_argument) {
  const auto r = cuttle_run({"eval", "--set", "Name=World", "Hello #{Name | ToUpper}"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "Hello WORLD") << describe(r);
  EXPECT_EQ(r.err, "") << describe(r);
}

TEST(cli_eval, uses_variables_files_too) {
  temp_dir dir;
  const auto vars = dir.write("vars.json", R"({"Items": "a,b", "J": {"x": [1, 2]}})");
  const auto r = cuttle_run({"eval", "--variables", vars, "#{each i in Items}<#{i}>#{/each}#{J.x[1]}"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "<a><b>2") << describe(r);
}

// --- sensitive values
// ------------------------------------------------------------------------------------------

TEST(cli_sensitive, value_with_an_unresolved_token_is_not_printed) {
  temp_dir dir;
  const std::string secret = "hunter2-#{Missing}";
  const auto secrets = dir.write("secrets.json", R"({"Secret": "hunter2-#{Missing}"})");
  const auto tpl = dir.write("t.txt", "value: #{Secret}\n");
  for (bool strict : {false, true}) {
    std::vector<std::string> args = {"render", "--sensitive-variables", secrets, tpl};
    if (strict) args.insert(args.begin() + 1, "--strict");
    const auto r = cuttle_run(args);
    EXPECT_EQ(r.exit_code, strict ? 2 : 0) << describe(r);
    EXPECT_NE(r.err, "") << "expected a diagnostic about #{Missing}" << describe(r);
    EXPECT_FALSE(contains(r.err, secret)) << describe(r);
    EXPECT_FALSE(contains(r.err, "hunter2")) << describe(r);
  }
}

TEST(cli_sensitive, password_containing_an_opener_is_not_printed) {
  temp_dir dir;
  const std::string secret = "pa#{ss}word";
  const auto secrets = dir.write("secrets.json", R"({"Password": "pa#{ss}word"})");
  const auto r = cuttle_run({"eval", "--sensitive-variables", secrets, "#{Password} #{Password | ToUpper}"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_FALSE(contains(r.err, secret)) << describe(r);
}

TEST(cli_sensitive, value_in_the_template_echo_is_not_printed) {
  // The template itself contains the secret text inside a token that cannot be resolved.
  temp_dir dir;
  const auto secrets = dir.write("secrets.json", R"({"Token": "tok-3141"})");
  const auto r = cuttle_run({"eval", "--sensitive-variables", secrets, "#{Missing[tok-3141]} #{Token}"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "#{Missing[tok-3141]} tok-3141") << describe(r);
  EXPECT_FALSE(contains(r.err, "tok-3141")) << describe(r);
}

// --- help
// ------------------------------------------------------------------------------------------------------------

const std::vector<std::string> variable_flags = {"--variables", "--sensitive-variables", "--set", "--strict",
                                                 "--continue-on-error"};

TEST(cli_help, main_help_mentions_every_command_and_flag) {
  const auto r = cuttle_run({"--help"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  for (const auto& word : {"render", "eval", "--help", "--version", "--output", " -o"}) {
    EXPECT_TRUE(contains(r.out, word)) << word << describe(r);
  }
  for (const auto& flag : variable_flags) EXPECT_TRUE(contains(r.out, flag)) << flag << describe(r);
}

TEST(cli_help, main_help_mentions_run_and_bootstrap_and_their_flags) {
  const auto r = cuttle_run({"--help"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  for (const auto& word : {"cuttle run", "cuttle bootstrap", "--output-variables",
                           "--sensitive-output-variables", "--language", "--timeout"}) {
    EXPECT_TRUE(contains(r.out, word)) << word << describe(r);
  }
}

TEST(cli_help, render_help_mentions_every_flag) {
  const auto r = cuttle_run({"render", "--help"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  for (const auto& flag : variable_flags) EXPECT_TRUE(contains(r.out, flag)) << flag << describe(r);
  EXPECT_TRUE(contains(r.out, "--output")) << describe(r);
  EXPECT_TRUE(contains(r.out, " -o")) << describe(r);
}

TEST(cli_help, eval_help_mentions_every_flag) {
  const auto r = cuttle_run({"eval", "--help"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  for (const auto& flag : variable_flags) EXPECT_TRUE(contains(r.out, flag)) << flag << describe(r);
}

TEST(cli_help, version_exits_zero) {
  const auto r = cuttle_run({"--version"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "cuttle")) << describe(r);
}

}  // namespace

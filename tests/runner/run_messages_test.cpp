// `cuttle run` end to end with real bash scripts: service messages acted on, log levels in the plain and
// JSON formats, progress, artifacts, result messages, --fail-on-stderr, and secrets masked everywhere.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "process.hpp"

#ifndef CUTTLE_EXE
#error "CUTTLE_EXE must name the cuttle executable"
#endif

namespace {

namespace fs = std::filesystem;
using cuttle::test::process_result;
using cuttle::test::read_text;
using cuttle::test::run_process;
using cuttle::test::temp_dir;

using cuttle::test::contains;
using cuttle::test::describe;

process_result cuttle(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {CUTTLE_EXE};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv);
}

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> records;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) records.push_back(nlohmann::json::parse(line));
  return records;
}

TEST(run_messages, helper_levels_print_as_prefixed_lines_and_the_messages_disappear) {
  temp_dir work;
  const auto script = work.write("levels.sh",
                                 "echo plain\n"
                                 "write_verbose 'a verbose line'\n"
                                 "write_highlight 'look here'\n"
                                 "write_wait 'waiting'\n"
                                 "write_warning 'careful'\n"
                                 "echo after\n"
                                 "echo oops >&2\n");
  const auto r = cuttle({"run", "--log-format", "plain", script});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out,
            "plain\nverbose: a verbose line\nhighlight: look here\nwait: waiting\nwarning: careful\nafter\n")
      << describe(r);
  EXPECT_EQ(r.err, "oops\n") << describe(r);
}

TEST(run_messages, modes_are_sticky_ignore_drops_and_stderr_modes_apply) {
  temp_dir work;
  const auto script = work.write("modes.sh",
                                 "echo '##octopus[stdout-warning]'\n"
                                 "echo one\necho two\n"
                                 "echo '##octopus[stdout-ignore]'\n"
                                 "echo hidden\n"
                                 "echo '##octopus[stdout-default]'\n"
                                 "echo '##octopus[stderr-progress]' >&2\n"
                                 "echo progress-ish >&2\n"
                                 "echo '##octopus[stderr-ignore]' >&2\n"
                                 "echo gone >&2\n");
  const auto r = cuttle({"run", "--log-format", "plain", script});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "warning: one\nwarning: two\n") << describe(r);
  EXPECT_EQ(r.err, "verbose: progress-ish\n") << describe(r);
}

TEST(run_messages, json_format_writes_one_record_per_line) {
  temp_dir work;
  const auto script = work.write("json.sh",
                                 "echo hello\n"
                                 "write_warning 'be careful'\n"
                                 "update_progress 40 'Almost'\n"
                                 "echo bad >&2\n"
                                 "printf 'no newline'\n");
  const auto r = cuttle({"run", "--log-format", "json", script});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  const auto records = json_lines(r.out);
  std::vector<std::string> seen;
  for (const auto& rec : records) {
    ASSERT_TRUE(rec.contains("time") && rec["time"].is_string()) << rec.dump();
    EXPECT_EQ(rec["time"].get<std::string>().size(), 24U) << rec.dump();  // 2026-11-21T08:00:00.000Z
    seen.push_back(rec["stream"].get<std::string>() + "/" + rec["level"].get<std::string>() + "/" +
                   rec["text"].get<std::string>());
    if (rec["level"] == "progress") {
      EXPECT_EQ(rec["percentage"], 40) << rec.dump();
    }
  }
  const std::vector<std::string> expected = {"stdout/info/hello", "stdout/warning/be careful",
                                             "cuttle/progress/Almost", "stderr/error/bad",
                                             "stdout/info/no newline"};
  EXPECT_EQ(seen, expected) << describe(r);
  EXPECT_EQ(r.err, "") << describe(r);
}

TEST(run_messages, progress_is_a_plain_line) {
  temp_dir work;
  const auto script = work.write("progress.sh", "update_progress 50 'Half Way'\nupdate_progress 100\n");
  const auto r = cuttle({"run", "--log-format", "plain", script});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "progress: 50% Half Way\nprogress: 100%\n") << describe(r);
}

TEST(run_messages, fail_step_message_becomes_the_failure_message) {
  temp_dir work;
  const auto script = work.write("fail.sh", "echo working\nfail_step 'Database is down'\n");
  const auto r = cuttle({"run", "--log-format", "plain", script});
  EXPECT_EQ(r.exit_code, 255) << describe(r);
  EXPECT_EQ(r.out, "working\n") << describe(r);
  EXPECT_TRUE(contains(r.err, "cuttle: error: the script failed: Database is down\n")) << describe(r);
}

TEST(run_messages, fail_on_stderr_by_flag_and_by_variable) {
  temp_dir work;
  const auto noisy = work.write("noisy.sh", "echo fine\necho 'a complaint' >&2\n");
  const auto quiet =
      work.write("quiet.sh", "echo fine\necho '##octopus[stdout-default]' >&2\necho '   ' >&2\n");
  const auto flagged = cuttle({"run", "--fail-on-stderr", noisy});
  EXPECT_EQ(flagged.exit_code, 1) << describe(flagged);
  EXPECT_TRUE(contains(flagged.err, "wrote to stderr")) << describe(flagged);
  const auto by_variable = cuttle({"run", "--set", "Octopus.Action.FailScriptOnErrorOutput=True", noisy});
  EXPECT_EQ(by_variable.exit_code, 1) << describe(by_variable);
  const auto not_asked = cuttle({"run", noisy});
  EXPECT_EQ(not_asked.exit_code, 0) << describe(not_asked);
  // Service messages and white space on stderr do not count.
  const auto clean = cuttle({"run", "--fail-on-stderr", quiet});
  EXPECT_EQ(clean.exit_code, 0) << describe(clean);
}

TEST(run_messages, artifacts_are_collected_with_a_manifest_and_a_missing_one_is_a_warning) {
  temp_dir work;
  const auto dir = (work.path() / "artifacts").string();
  const auto script =
      work.write("art.sh",
                 "printf 'report body' > report.txt\n"
                 "new_octopusartifact report.txt 'Report.txt'\n"
                 "printf 'second' > other.txt\n"
                 "new_octopusartifact other.txt 'Report.txt'\n"
                 "echo '##octopus[createArtifact path=\"L25vL3N1Y2gvZmlsZQ==\" name=\"Z2hvc3Q=\"]'\n");
  const auto r = run_process({"/bin/sh", "-c",
                              "cd '" + work.path().string() + "' && exec '" + CUTTLE_EXE +
                                  "' run --log-format plain --artifacts '" + dir + "' '" + script + "'"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(read_text(fs::path(dir) / "Report.txt"), "report body");
  EXPECT_EQ(read_text(fs::path(dir) / "Report-2.txt"), "second");
  EXPECT_TRUE(contains(r.err, "artifact 'ghost' was not collected: /no/such/file does not exist"))
      << describe(r);
  const auto manifest = nlohmann::json::parse(read_text(fs::path(dir) / "manifest.json"));
  ASSERT_EQ(manifest.size(), 3U) << manifest.dump();
  EXPECT_EQ(manifest[0]["name"], "Report.txt");
  EXPECT_EQ(manifest[0]["file"], "Report.txt");
  EXPECT_EQ(manifest[0]["length"], 11);
  EXPECT_EQ(manifest[0]["source"], (work.path() / "report.txt").string());
  EXPECT_EQ(manifest[1]["file"], "Report-2.txt");
  EXPECT_EQ(manifest[2]["collected"], false);
}

TEST(run_messages, unknown_messages_pass_on_and_malformed_ones_show_as_text) {
  temp_dir work;
  const auto script = work.write("odd.sh",
                                 "echo \"##octopus[my-own thing='eA==']\"\n"
                                 "echo \"##octopus[delete-target machine='V2ViMDE=']\"\n"
                                 "echo \"before ##octopus[setVariable name='!!'] after\"\n");
  const auto r = cuttle({"run", "--log-format", "plain", script});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out,
            "##octopus[my-own thing='eA==']\n##octopus[delete-target machine='V2ViMDE=']\n"
            "before ##octopus[setVariable name='!!'] after\n")
      << describe(r);
  EXPECT_TRUE(contains(r.err, "unknown service message 'my-own'")) << describe(r);
  EXPECT_FALSE(contains(r.err, "unknown service message 'delete-target'")) << describe(r);
  EXPECT_TRUE(contains(r.err, "malformed service message")) << describe(r);
}

TEST(run_masking, sensitive_values_are_masked_on_both_streams_split_or_encoded) {
  temp_dir work;
  const auto secrets = work.write("secrets.json", R"({"Password": "correct-horse-battery"})");
  const auto script =
      work.write("leak.sh",
                 "echo \"plain: $(get_octopusvariable Password)\"\n"
                 "printf 'split: correct-'; sleep 0.2; printf 'horse-battery\\n'\n"
                 "echo \"stderr: $(get_octopusvariable Password)\" >&2\n"
                 "printf 'b64: %s\\n' \"$(printf %s \"$(get_octopusvariable Password)\" | base64)\"\n"
                 "write_warning \"warn: $(get_octopusvariable Password)\"\n");
  const auto r = cuttle({"run", "--log-format", "plain", "--sensitive-variables", secrets, script});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_FALSE(contains(r.out + r.err, "correct-horse-battery")) << describe(r);
  EXPECT_FALSE(contains(r.out, "Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5")) << describe(r);
  EXPECT_TRUE(contains(r.out, "plain: ********\n")) << describe(r);
  EXPECT_TRUE(contains(r.out, "split: ********\n")) << describe(r);
  EXPECT_TRUE(contains(r.out, "warning: warn: ********\n")) << describe(r);
  EXPECT_TRUE(contains(r.err, "stderr: ********\n")) << describe(r);
}

TEST(run_masking, sensitive_outputs_mask_messages_and_json_logs_are_masked_from_then_on) {
  temp_dir work;
  const auto script = work.write("later.sh",
                                 "echo 'before: token-1234567'\n"
                                 "set_octopusvariable Token 'token-1234567' -sensitive\n"
                                 "echo 'after: token-1234567'\n"
                                 "echo \"##octopus[mask value='$(printf %s 'another-secret' | base64)']\"\n"
                                 "echo 'then: another-secret'\n");
  const auto r = cuttle({"run", "--log-format", "json", "--mask", "given-on-command-line", script});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "\"before: token-1234567\"")) << describe(r);  // not known as secret yet
  EXPECT_TRUE(contains(r.out, "\"after: ********\"")) << describe(r);
  EXPECT_TRUE(contains(r.out, "\"then: ********\"")) << describe(r);
  EXPECT_FALSE(contains(r.out, "another-secret")) << describe(r);
}

TEST(run_masking, text_is_released_before_the_line_ends) {
  // A script that prints a prompt without a newline, then waits: the prompt must be out before it ends.
  temp_dir work;
  const auto marker = (work.path() / "seen").string();
  const auto script = work.write("prompt.sh",
                                 "printf 'Continue? '\n"
                                 "for i in $(seq 1 50); do [ -e '" +
                                     marker +
                                     "' ] && break; sleep 0.1; done\n"
                                     "echo done\n");
  // A reader that creates the marker as soon as it has seen the prompt.
  const auto r = run_process({"/bin/bash", "-c",
                              "'" + std::string(CUTTLE_EXE) + "' run --mask " + "some-long-secret-value '" +
                                  script + "' | { head -c 10 > /dev/null; touch '" + marker +
                                  "'; cat; }; test -e '" + marker + "' && echo marker-made"});
  EXPECT_TRUE(contains(r.out, "done")) << describe(r);
  EXPECT_TRUE(contains(r.out, "marker-made")) << describe(r);
}

TEST(run_process_faults, a_flood_cut_short_keeps_memory_bounded_and_loses_nothing_before_the_kill) {
  temp_dir work;
  const auto log = (work.path() / "log.txt").string();
  const auto script = work.write("flood.sh", "exec seq 1 1000000000\n");
  const auto r =
      run_process({"/bin/sh", "-c",
                   "exec '" + std::string(CUTTLE_EXE) + "' run --timeout 2 --mask never-printed-value '" +
                       script + "' > '" + log + "'"});
  EXPECT_EQ(r.exit_code, 124) << describe(r);
  rusage usage{};
  ::getrusage(RUSAGE_CHILDREN, &usage);
  EXPECT_LT(usage.ru_maxrss, 100 * 1024) << "KiB";  // cuttle streamed; it did not keep the output
  // Every line up to the last complete one is there, in order.
  std::ifstream in(log);
  std::string line;
  long expected = 1;
  long lines = 0;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a last partial line
    ASSERT_EQ(line, std::to_string(expected)) << "line " << lines + 1;
    ++expected;
    ++lines;
  }
  EXPECT_GT(lines, 100000) << "the flood should get far in 2 s";
}

TEST(run_mask_command, filters_stdin_with_the_same_masker) {
  temp_dir work;
  const auto secrets = work.write("s.json", R"({"A": "alpha-secret", "B": "beta-secret-value"})");
  const auto r = run_process({CUTTLE_EXE, "mask", "--sensitive-variables", secrets, "--mask", "gamma-secret"},
                             "x alpha-secret y beta-secret-value z gamma-secret\nYWxwaGEtc2VjcmV0\n");
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "x ******** y ******** z ********\n********\n") << describe(r);
  const auto bad =
      run_process({CUTTLE_EXE, "mask", "--sensitive-variables", (work.path() / "none.json").string()});
  EXPECT_EQ(bad.exit_code, 2) << describe(bad);
  const auto unexpected = run_process({CUTTLE_EXE, "mask", "file.txt"});
  EXPECT_EQ(unexpected.exit_code, 2) << describe(unexpected);
}

TEST(run_mask_command, masks_a_regular_file_from_its_current_offset_across_block_boundaries) {
  // A file on stdin is read in 64 KiB chunks and masked on one thread while another writes: put secrets
  // and encoded forms across chunk boundaries (1 MiB is one), and start reading at an offset that is not
  // page aligned.
  temp_dir work;
  const auto secrets = work.write("s.json", R"({"A": "alpha-secret-value"})");
  const std::string secret = "alpha-secret-value";
  const std::string encoded = "YWxwaGEtc2VjcmV0LXZhbHVl";  // base64
  std::string log;
  std::string expected;
  auto clean = [&](const std::string& text) {
    log += text;
    expected += text;
  };
  for (std::size_t boundary = 1; boundary <= 3; ++boundary) {
    const std::size_t at = boundary * (std::size_t{1} << 20) - 3 * boundary;
    while (log.size() + 40 < at) clean("log line " + std::to_string(log.size()) + " ok\n");
    clean(std::string(at - log.size(), '.'));
    log += boundary == 2 ? encoded : secret;
    expected += "********";
    clean("\n");
  }
  clean("the end ");
  log += secret;
  expected += "********";
  const auto file = work.write("log.txt", log);
  const std::string shell = "exec \"$0\" mask --sensitive-variables \"$1\" < \"$2\"";
  const auto r = run_process({"/bin/sh", "-c", shell, CUTTLE_EXE, secrets, file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == expected) << "output differs (" << r.out.size() << " bytes, expected "
                                 << expected.size() << ")";
  EXPECT_EQ(r.out.find(secret), std::string::npos);

  const std::string skip =
      "dd bs=7 count=1 of=/dev/null 2>/dev/null; exec \"$0\" mask --sensitive-variables \"$1\"";
  const auto skipped =
      run_process({"/bin/sh", "-c", "{ " + skip + "; } < \"$2\"", CUTTLE_EXE, secrets, file});
  EXPECT_EQ(skipped.exit_code, 0) << skipped.err;
  EXPECT_TRUE(skipped.out == expected.substr(7)) << "output from offset 7 differs";
}

TEST(run_mask_command, a_file_of_whole_chunks_is_masked_to_the_end_every_time) {
  // The reader thread refills a slot as soon as it is written; when the end of the input (an empty read)
  // lands in a slot the masking thread has just handed back, the masking thread must still see it. A
  // file of whole 64 KiB chunks ends with such a read. Repeated, since it is a race; `timeout` turns a
  // hang into a failure.
  temp_dir work;
  const auto secrets = work.write("s.json", R"({"A": "alpha-secret-value"})");
  std::string log;
  std::string expected;
  for (std::size_t k = 1; k <= 6; ++k) {
    const std::size_t boundary = k * (std::size_t{64} << 10);
    // Across each boundary but the last, where the file ends with the secret.
    const std::size_t filler = boundary - log.size() - (k < 6 ? 9 : 19);
    log += std::string(filler, 'x') + "\n";
    expected += std::string(filler, 'x') + "\n";
    log += "alpha-secret-value";
    expected += "********";
  }
  ASSERT_EQ(log.size(), std::size_t{6} << 16);
  const auto file = work.write("log.txt", log);
  const std::string shell = "exec timeout 20 \"$0\" mask --sensitive-variables \"$1\" < \"$2\"";
  for (int round = 0; round < 40; ++round) {
    const auto r = run_process({"/bin/sh", "-c", shell, CUTTLE_EXE, secrets, file});
    ASSERT_EQ(r.exit_code, 0) << "round " << round << ": " << r.err;
    ASSERT_TRUE(r.out == expected) << "round " << round << ": " << r.out.size() << " bytes";
  }
}

}  // namespace

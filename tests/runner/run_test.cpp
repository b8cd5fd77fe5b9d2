// `cuttle run` and `cuttle bootstrap` end to end: the real `cuttle` binary runs real bash and python3
// scripts written to fresh temporary directories. Every run gets its own TMPDIR, so each test can check
// that cuttle's private directory is gone afterwards (and, while a script runs, what is in it).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
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

/// Runs `cuttle ARGS...` with TMPDIR set to `tmp` (plus `env`, NAME=VALUE entries) and checks that cuttle
/// left nothing behind in it.
process_result cuttle_in(const temp_dir& tmp, const std::vector<std::string>& args,
                         const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv = {"/usr/bin/env", "TMPDIR=" + tmp.path().string()};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.emplace_back(CUTTLE_EXE);
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_process(argv);
  EXPECT_EQ(tmp.entries(), std::vector<std::string>{}) << "cuttle's private directory was left behind";
  return r;
}

/// The two supported languages, with how each spells the things the tests need.
struct language_case {
  std::string name;  ///< --language value
  std::string ext;   ///< script extension
  std::string print_args;
  std::string exit_with_3;
  std::string read_name_var;  ///< prints the value of variable Name, then a newline
  std::string set_outputs;    ///< sets Out="out value" and Sec="s3cr3t-out" (sensitive)
};

const language_case bash_case{"bash",
                              ".sh",
                              "for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\n",
                              "exit 3\n",
                              "printf '%s\\n' \"$(get_octopusvariable 'Name')\"\n",
                              "set_octopusvariable Out 'out value'\n"
                              "set_octopusvariable Sec 's3cr3t-out' -sensitive\n"};
const language_case python_case{"python",
                                ".py",
                                "import sys\nfor a in sys.argv[1:]:\n    print('[' + a + ']')\n",
                                "import sys\nsys.exit(3)\n",
                                "print(get_octopusvariable('Name'))\n",
                                "set_octopusvariable('Out', 'out value')\n"
                                "set_octopusvariable('Sec', 's3cr3t-out', True)\n"};

void PrintTo(const language_case& c, std::ostream* os) { *os << c.name; }

class run_language : public ::testing::TestWithParam<language_case> {};

INSTANTIATE_TEST_SUITE_P(languages, run_language, ::testing::Values(bash_case, python_case),
                         [](const auto& param_info) { return param_info.param.name; });

TEST_P(run_language, passes_the_exit_code_through) {
  const auto& lang = GetParam();
  temp_dir work;
  temp_dir tmp;
  const auto script = work.write("exit" + lang.ext, lang.exit_with_3);
  const auto r = cuttle_in(tmp, {"run", script});
  EXPECT_EQ(r.exit_code, 3) << describe(r);

  const auto ok = cuttle_in(tmp, {"run", work.write("ok" + lang.ext, "\n")});
  EXPECT_EQ(ok.exit_code, 0) << describe(ok);
}

TEST_P(run_language, passes_arguments_with_spaces_and_quotes_as_they_are) {
  const auto& lang = GetParam();
  temp_dir work;
  temp_dir tmp;
  const auto script = work.write("args" + lang.ext, lang.print_args);
  const std::vector<std::string> args = {"a b", "it's", "\"quoted\"", "$HOME",
                                         "",    "*",    "--set",      "back\\slash"};
  std::vector<std::string> command = {"run", script, "--"};
  command.insert(command.end(), args.begin(), args.end());
  const auto r = cuttle_in(tmp, command);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  std::string expected;
  for (const auto& a : args) expected += "[" + a + "]\n";
  EXPECT_TRUE(contains(r.out, expected)) << describe(r);
}

TEST_P(run_language, language_option_overrides_the_extension) {
  const auto& lang = GetParam();
  temp_dir work;
  temp_dir tmp;
  const auto script = work.write("script.txt", lang.read_name_var);
  const auto r = cuttle_in(tmp, {"run", "--language", lang.name, "--set", "Name=from set", script});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "from set\n")) << describe(r);
}

TEST_P(run_language, writes_output_variables_and_sensitive_ones_only_to_their_own_file) {
  const auto& lang = GetParam();
  temp_dir work;
  temp_dir tmp;
  const auto script = work.write("out" + lang.ext, lang.set_outputs);
  const auto plain = (work.path() / "out.json").string();
  const auto sensitive = (work.path() / "sensitive.json").string();
  const auto r = cuttle_in(tmp, {"run", "--set", "Octopus.Action.Name=Deploy Web", "--output-variables",
                                 plain, "--sensitive-output-variables", sensitive, script});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  // cuttle acts on the service messages instead of printing them, and says what it did.
  EXPECT_FALSE(contains(r.out, "##octopus[")) << describe(r);
  EXPECT_TRUE(contains(r.err, "output variable 'Out' set")) << describe(r);
  EXPECT_TRUE(contains(r.err, "output variable 'Sec' set (sensitive)")) << describe(r);

  const auto plain_text = read_text(plain);
  EXPECT_TRUE(contains(plain_text, "\"Out\": \"out value\"")) << plain_text;
  EXPECT_TRUE(contains(plain_text, "\"Octopus.Action[Deploy Web].Output.Out\": \"out value\"")) << plain_text;
  EXPECT_FALSE(contains(plain_text, "s3cr3t-out")) << plain_text;
  EXPECT_FALSE(contains(plain_text, "Sec")) << plain_text;

  const auto sensitive_text = read_text(sensitive);
  EXPECT_TRUE(contains(sensitive_text, "\"Sec\": \"s3cr3t-out\"")) << sensitive_text;
  EXPECT_TRUE(contains(sensitive_text, "\"Octopus.Action[Deploy Web].Output.Sec\"")) << sensitive_text;
  EXPECT_FALSE(contains(sensitive_text, "out value")) << sensitive_text;
  struct stat st {};
  ASSERT_EQ(::stat(sensitive.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);

  // Both files load again as variables files.
  const auto again = run_process({CUTTLE_EXE, "eval", "--variables", plain, "--sensitive-variables",
                                  sensitive, "#{Out}|#{Octopus.Action[Deploy Web].Output.Out}|#{Sec}"});
  EXPECT_EQ(again.exit_code, 0) << describe(again);
  EXPECT_EQ(again.out, "out value|out value|s3cr3t-out") << describe(again);
  // And reach a script run with them.
  auto read_out = lang.read_name_var;
  read_out.replace(read_out.find("Name"), 4, "Octopus.Action[Deploy Web].Output.Out");
  const auto reader = work.write("read" + lang.ext, read_out);
  const auto chained = cuttle_in(tmp, {"run", "--variables", plain, reader});
  EXPECT_EQ(chained.exit_code, 0) << describe(chained);
  EXPECT_TRUE(contains(chained.out, "out value\n")) << describe(chained);
}

TEST_P(run_language, sensitive_outputs_without_their_file_are_dropped_with_a_warning) {
  const auto& lang = GetParam();
  temp_dir work;
  temp_dir tmp;
  const auto script = work.write("out" + lang.ext, lang.set_outputs);
  const auto plain = (work.path() / "out.json").string();
  const auto r = cuttle_in(tmp, {"run", "--output-variables", plain, script});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.err, "--sensitive-output-variables")) << describe(r);
  EXPECT_TRUE(contains(r.err, "Sec")) << describe(r);
  const auto plain_text = read_text(plain);
  EXPECT_TRUE(contains(plain_text, "\"Out\": \"out value\"")) << plain_text;
  EXPECT_FALSE(contains(plain_text, "s3cr3t-out")) << plain_text;
  EXPECT_FALSE(contains(r.err, "s3cr3t-out")) << describe(r);
}

TEST_P(run_language, missing_interpreter_is_a_clear_error) {
  const auto& lang = GetParam();
  temp_dir work;
  temp_dir tmp;
  temp_dir empty_path;
  const auto script = work.write("script" + lang.ext, "\n");
  const auto r =
      cuttle_in(tmp, {"run", "--language", lang.name, script}, {"PATH=" + empty_path.path().string()});
  const std::string interpreter = lang.name == "bash" ? "bash" : "python3";
  EXPECT_EQ(r.exit_code, 127) << describe(r);
  EXPECT_TRUE(contains(r.err, interpreter + " not found on PATH")) << describe(r);
  EXPECT_TRUE(contains(r.err, "apt-get install " + interpreter)) << describe(r);
  EXPECT_EQ(r.out, "") << describe(r);
}

/// The whole content of every regular file under `dir`, concatenated.
std::string all_file_contents(const fs::path& dir) {
  std::string all;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) all += read_text(e.path());
  }
  return all;
}

std::string sha256_hex(const std::string& text) {
  temp_dir d;
  const auto file = d.write("in", text);
  const auto r = run_process({"/usr/bin/sha256sum", file});
  return r.out.substr(0, 64);
}

TEST_P(run_language, sensitive_value_never_reaches_disk_command_lines_or_environments) {
  const auto& lang = GetParam();
  const std::string secret = "uniq-7Qz-secret-" + std::to_string(::getpid()) + "-" + lang.name;
  temp_dir inputs;  // holds the sensitive variables file itself; not scanned
  temp_dir work;
  temp_dir tmp;
  const auto secrets_file = inputs.write("secrets.json", "{\"Secret\": \"" + secret + "\"}");
  const auto pid_file = (work.path() / "pid").string();
  const auto go_file = (work.path() / "go").string();
  // The script hashes the value (so the value itself is never in the script), records its pid and waits.
  std::string script_text;
  if (lang.name == "bash") {
    script_text =
        "printf '%s' \"$(get_octopusvariable Secret)\" | sha256sum\n"
        "echo $$ > '" +
        pid_file + ".tmp'; mv '" + pid_file + ".tmp' '" + pid_file +
        "'\n"
        "while [ ! -e '" +
        go_file + "' ]; do sleep 0.02; done\n";
  } else {
    script_text =
        "import hashlib, os, time\n"
        "print(hashlib.sha256(get_octopusvariable('Secret').encode()).hexdigest(), flush=True)\n"
        "open('" +
        pid_file + ".tmp', 'w').write(str(os.getpid()))\nos.rename('" + pid_file + ".tmp', '" + pid_file +
        "')\n"
        "while not os.path.exists('" +
        go_file + "'):\n    time.sleep(0.02)\n";
  }
  const auto script = work.write("secret" + lang.ext, script_text);

  process_result r;
  std::thread runner([&] { r = cuttle_in(tmp, {"run", "--sensitive-variables", secrets_file, script}); });
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!fs::exists(pid_file) && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const bool started = fs::exists(pid_file);
  if (started) {
    const std::string pid = read_text(pid_file);
    const fs::path proc = fs::path("/proc") / pid.substr(0, pid.find_first_of("\n "));
    const auto cmdline = read_text(proc / "cmdline");
    const auto environ_text = read_text(proc / "environ");
    EXPECT_FALSE(cmdline.empty());
    EXPECT_FALSE(environ_text.empty());
    EXPECT_FALSE(contains(cmdline, secret)) << cmdline;
    EXPECT_FALSE(contains(environ_text, secret));
    // The preamble closed the channel's descriptor. Bash keeps one memfd open, close-on-exec: the
    // bootstrap it is reading, which holds code only.
    for (const auto& fd : fs::directory_iterator(proc / "fd")) {
      std::error_code ec;
      const auto target = fs::read_symlink(fd.path(), ec).string();
      if (lang.name == "bash" && target == "/memfd:cuttle-bootstrap.sh (deleted)") {
        const auto code = read_text(fd.path());
        EXPECT_TRUE(contains(code, "get_octopusvariable()")) << code.substr(0, 200);
        EXPECT_FALSE(contains(code, secret));
        continue;
      }
      EXPECT_FALSE(contains(target, "memfd:")) << fd.path() << " -> " << target;
    }
    // Bash needs no directory without script modules (its bootstrap and loader are inherited memfds);
    // Python's exists while the script runs: mode 0700, files 0600, no value in them.
    const auto entries = tmp.entries();
    EXPECT_EQ(entries.size(), lang.name == "bash" ? 0U : 1U);
    for (const auto& name : entries) {
      EXPECT_EQ(name.rfind("cuttle-run-", 0), 0U) << name;
      EXPECT_EQ(fs::status(tmp.path() / name).permissions(), fs::perms::owner_all) << name;
      for (const auto& f : fs::directory_iterator(tmp.path() / name)) {
        EXPECT_EQ(f.status().permissions(), fs::perms::owner_read | fs::perms::owner_write) << f.path();
      }
    }
    EXPECT_FALSE(contains(all_file_contents(tmp.path()), secret));
    EXPECT_FALSE(contains(all_file_contents(work.path()), secret));
  }
  work.write("go", "");
  runner.join();
  ASSERT_TRUE(started) << "the script never wrote its pid" << describe(r);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, sha256_hex(secret))) << "the script did not receive the value" << describe(r);
  EXPECT_FALSE(contains(all_file_contents(work.path()), secret));
}

// --- language-independent behaviour
// -------------------------------------------------------------------------

TEST(run_process_control, timeout_stops_the_whole_process_group_and_exits_124) {
  temp_dir work;
  temp_dir tmp;
  const auto bg_pid = (work.path() / "bg.pid").string();
  const auto script = work.write("slow.sh", "sleep 60 &\necho $! > '" + bg_pid + "'\nsleep 60\n");
  const auto start = std::chrono::steady_clock::now();
  const auto r = cuttle_in(tmp, {"run", "--timeout", "1", script});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 124) << describe(r);
  EXPECT_TRUE(contains(r.err, "--timeout")) << describe(r);
  EXPECT_GE(elapsed, std::chrono::milliseconds(900));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  // The background sleep was in the script's process group, so it is gone too (or a zombie being reaped).
  const auto pid = read_text(bg_pid);
  ASSERT_FALSE(pid.empty());
  const fs::path stat_file = fs::path("/proc") / pid.substr(0, pid.find('\n')) / "stat";
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    const auto stat_text = read_text(stat_file);
    gone = stat_text.empty() || contains(stat_text, ") Z ");
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone) << "the background sleep survived the timeout";
}

TEST(run_process_control, sigterm_to_cuttle_reaches_the_script) {
  temp_dir work;
  temp_dir tmp;
  // The interpreter's parent is cuttle itself: the script signals it and sees the signal come back.
  const auto script =
      work.write("trap.sh", "trap 'echo got TERM; exit 5' TERM\nkill -TERM $PPID\nsleep 10 &\nwait\n");
  const auto r = cuttle_in(tmp, {"run", script});
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << describe(r);  // cuttle was stopped: 128+signal, as a shell does
  EXPECT_TRUE(contains(r.out, "got TERM")) << describe(r);
}

TEST(run_process_control, a_script_that_ignores_sigterm_is_killed_after_the_grace_period) {
  temp_dir work;
  temp_dir tmp;
  const auto script =
      work.write("stubborn.sh", "trap '' TERM\nkill -TERM $PPID\nsleep 30\necho not-reached\n");
  const auto start = std::chrono::steady_clock::now();
  const auto r = cuttle_in(tmp, {"run", script});
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << describe(r);
  EXPECT_FALSE(contains(r.out, "not-reached")) << describe(r);
  EXPECT_LT(took, std::chrono::seconds(20)) << "SIGKILL should follow SIGTERM after 5 s";
}

TEST(run_process_control, killed_script_exits_128_plus_the_signal) {
  temp_dir work;
  temp_dir tmp;
  const auto script = work.write("killed.sh", "kill -KILL $$\n");
  const auto r = cuttle_in(tmp, {"run", script});
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << describe(r);
}

TEST(run_process_control, output_and_stderr_are_passed_through) {
  temp_dir work;
  temp_dir tmp;
  const auto script = work.write("io.sh", "printf 'no newline at the end'\necho to-stderr >&2\n");
  const auto r = cuttle_in(tmp, {"run", script});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "no newline at the end")) << describe(r);
  EXPECT_TRUE(contains(r.err, "to-stderr\n")) << describe(r);
}

TEST(run_process_control, service_messages_in_both_quote_styles_and_across_lines) {
  temp_dir work;
  temp_dir tmp;
  const auto out = (work.path() / "out.json").string();
  // Written by hand: double quotes, a message split over lines, text around it, a second one on a line.
  const auto script =
      work.write("raw.sh",
                 "echo \"before ##octopus[setVariable name=\\\"QQ==\\\" value=\\\"MQ==\\\"] "
                 "##octopus[setVariable name='Qg==' value='Mg==']\"\n"
                 "printf '%s\\n' \"##octopus[setVariable name='Qw==' \" \"value='M\" \"w==']\"\n"
                 "echo \"##octopus[setVariable name='RA==']\"\n"
                 "echo \"##octopus[setVariable name='!!' value='MQ==']\"\n");
  const auto r = cuttle_in(tmp, {"run", "--output-variables", out, script});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.err, "malformed service message")) << describe(r);
  const auto again = run_process({CUTTLE_EXE, "eval", "--variables", out, "#{A}|#{B}|#{C}|#{D}."});
  EXPECT_EQ(again.out, "1|2|3|.") << describe(again) << read_text(out);
  EXPECT_TRUE(contains(read_text(out), "\"D\": null")) << read_text(out);
}

TEST(run_errors, missing_interpreters_and_unknown_languages) {
  temp_dir work;
  temp_dir tmp;
  temp_dir empty_path;
  const auto ps1 = work.write("deploy.ps1", "Write-Host hi\n");
  const auto r = cuttle_in(tmp, {"run", ps1}, {"PATH=" + empty_path.path().string()});
  EXPECT_EQ(r.exit_code, 127) << describe(r);
  EXPECT_TRUE(contains(r.err, "pwsh not found on PATH")) << describe(r);
  EXPECT_TRUE(contains(r.err, "PowerShell 7")) << describe(r);
  const auto fsx = work.write("deploy.fsx", "printfn \"hi\"\n");
  const auto f = cuttle_in(tmp, {"run", fsx}, {"PATH=" + empty_path.path().string()});
  EXPECT_EQ(f.exit_code, 127) << describe(f);
  EXPECT_TRUE(contains(f.err, "dotnet not found on PATH; install the .NET SDK")) << describe(f);

  const auto unknown = cuttle_in(tmp, {"run", "--language", "cobol", ps1});
  EXPECT_EQ(unknown.exit_code, 2) << describe(unknown);
  EXPECT_TRUE(contains(unknown.err, "unknown language 'cobol'")) << describe(unknown);

  const auto no_extension = cuttle_in(tmp, {"run", work.write("deploy", "echo hi\n")});
  EXPECT_EQ(no_extension.exit_code, 2) << describe(no_extension);
  EXPECT_TRUE(contains(no_extension.err, "--language")) << describe(no_extension);
}

TEST(run_errors, bad_input_exits_two) {
  temp_dir work;
  temp_dir tmp;
  const auto script = work.write("ok.sh", "echo should-not-run\n");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"run"},
           {"run", (work.path() / "missing.sh").string()},
           {"run", "--timeout", "0", script},
           {"run", "--timeout", "soon", script},
           {"run", script, "extra"},
           {"run", "--strict", script},
           {"run", "--set", "NoEquals", script},
           {"run", "--variables", (work.path() / "missing.json").string(), script},
           {"bootstrap"},
           {"bootstrap", "--language", "bash", "extra"},
       }) {
    const auto r = cuttle_in(tmp, args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << describe(r);
    EXPECT_FALSE(contains(r.out, "should-not-run")) << describe(r);
  }
}

TEST(run_bootstrap, prints_the_preamble_of_every_language) {
  for (const std::string lang : {"bash", "python", "csharp", "fsharp", "powershell"}) {
    const auto r = run_process({CUTTLE_EXE, "bootstrap", "--language", lang});
    EXPECT_EQ(r.exit_code, 0) << lang << describe(r);
    EXPECT_FALSE(r.out.empty()) << lang << describe(r);
    EXPECT_TRUE(contains(r.out, "CUTTLE_VARIABLES_FD")) << lang << describe(r);
  }
  const auto r = run_process({CUTTLE_EXE, "bootstrap", "--language", "cobol"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_TRUE(contains(r.err, "unknown language 'cobol'")) << describe(r);
}

TEST(run_help, run_and_bootstrap_help_mention_every_flag) {
  const auto run = run_process({CUTTLE_EXE, "run", "--help"});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  for (const auto& flag :
       {"--variables", "--sensitive-variables", "--set", "--output-variables", "--sensitive-output-variables",
        "--language", "--timeout", "-- ARGS", "124", "127"}) {
    EXPECT_TRUE(contains(run.out, flag)) << flag << describe(run);
  }
  const auto bootstrap = run_process({CUTTLE_EXE, "bootstrap", "--help"});
  EXPECT_EQ(bootstrap.exit_code, 0) << describe(bootstrap);
  EXPECT_TRUE(contains(bootstrap.out, "--language")) << describe(bootstrap);
}

}  // namespace

namespace {

TEST(run_arguments, placeholders_in_the_script_path_and_arguments_are_not_replaced) {
  temp_dir work;
  temp_dir tmp;
  fs::create_directories(work.path() / "{dir}");
  const auto script = work.write("{dir}/args.sh", "printf '%s\\n' \"$0\" \"$@\"\n");
  const auto r = cuttle_in(tmp, {"run", script, "--", "{dir}", "{libexec}/x"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "{dir}\n{libexec}/x\n")) << describe(r);
}

}  // namespace

// The F# preamble run by the real F# Interactive (dotnet fsi): every helper's exact output, arguments,
// #load of script modules and siblings, compile errors, exceptions, exit codes, the variables channel, and
// the launch plan (which finds fsi.dll in the SDK beside `dotnet`).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cuttle/bootstrappers/bootstrap.hpp"
#include "process.hpp"
#include "script_child.hpp"

namespace {

namespace bs = cuttle::bootstrappers;
using cuttle::engine::variables;
using cuttle::test::base64;
using cuttle::test::script_options;
using cuttle::test::script_result;
using namespace std::string_literals;

// Every run costs a second or more (F# Interactive compiles the bootstrap and the script), so tests batch
// their checks into few runs.
#define REQUIRE_DOTNET()                \
  if (!cuttle::test::on_path("dotnet")) \
  GTEST_SKIP() << "dotnet (the .NET SDK, which has F# Interactive) is not installed (not on PATH)"

using cuttle::test::slow_options;

script_result run_fsharp(std::string_view source, const variables& vars = {},
                         const std::vector<std::string>& args = {}, script_options options = slow_options()) {
  return cuttle::test::run_source(bs::language::fsharp, source, vars, args, options, "script.fsx");
}

std::vector<std::string> messages(const std::string& out) { return cuttle::test::service_messages(out); }
std::string attribute(const std::string& message, const std::string& attr) {
  return cuttle::test::message_attribute(message, attr);
}
bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

/// Sets PATH for the lifetime of the object.
class scoped_path {
 public:
  explicit scoped_path(const std::string& value) {
    if (const char* old = std::getenv("PATH")) old_ = old;
    ::setenv("PATH", value.c_str(), 1);
  }
  ~scoped_path() {
    if (old_) {
      ::setenv("PATH", old_->c_str(), 1);
    } else {
      ::unsetenv("PATH");
    }
  }
  scoped_path(const scoped_path&) = delete;
  scoped_path& operator=(const scoped_path&) = delete;

 private:
  std::optional<std::string> old_;
};

// --- launch plans (no interpreter needed)
// ----------------------------------------------------------------------

TEST(fsharp_plan, starts_fsi_of_the_newest_sdk_beside_dotnet_with_the_arguments_verbatim) {
  cuttle::test::temp_dir tree;
  const auto root = tree.path() / "dotnet-root";
  std::filesystem::create_directories(root);
  ::chmod(tree.write("dotnet-root/dotnet", "#!/bin/sh\n").c_str(), 0755);
  std::filesystem::create_directories(tree.path() / "bin");
  std::filesystem::create_symlink(root / "dotnet", tree.path() / "bin" / "dotnet");
  std::filesystem::create_directories(tree.path() / "empty");
  for (const std::string sdk : {"8.0.100", "10.0.100-rc.1.25451.107", "10.0.100", "10.0.100-rc.2.25502.1",
                                "9.0.300", "not-a-version"}) {
    std::filesystem::create_directories(root / "sdk" / sdk / "FSharp");
    if (sdk != "9.0.300") tree.write("dotnet-root/sdk/" + sdk + "/FSharp/fsi.dll", "");
  }
  std::filesystem::create_directories(root / "sdk" / "10.0.200" / "FSharp");  // no fsi.dll: not an F# SDK
  const std::string script = "/nonexistent/deploy.fsx";
  const std::vector<std::string> args = {"a b", "", "--help", "@file", "--", "-I:x"};
  const auto canonical_root = std::filesystem::canonical(root).string();
  {
    const scoped_path path((tree.path() / "empty").string() + ":" + (tree.path() / "bin").string());
    auto plan = bs::plan_launch(bs::language::fsharp, script, args, {});
    EXPECT_EQ(plan.argv,
              (std::vector<std::string>{"dotnet", "exec", canonical_root + "/sdk/10.0.100/FSharp/fsi.dll",
                                        "--exec", "--load:{dir}/cuttle-bootstrap.fsx", script, "a b", "",
                                        "--help", "@file", "--", "-I:x"}));
    // Pre-releases order by their numeric parts: preview.10 is newer than preview.9.
    for (const std::string sdk : {"11.0.100-preview.9.1", "11.0.100-preview.10.1"}) {
      std::filesystem::create_directories(root / "sdk" / sdk / "FSharp");
      tree.write("dotnet-root/sdk/" + sdk + "/FSharp/fsi.dll", "");
    }
    plan = bs::plan_launch(bs::language::fsharp, script, {}, {});
    EXPECT_EQ(plan.argv.at(2), canonical_root + "/sdk/11.0.100-preview.10.1/FSharp/fsi.dll");
  }
  {
    // No SDK to be found: `dotnet fsi`, whose CLI drops the `--` that keeps the arguments from it.
    const scoped_path path((tree.path() / "empty").string());
    const auto plan = bs::plan_launch(bs::language::fsharp, script, args, {});
    EXPECT_EQ(plan.argv,
              (std::vector<std::string>{"dotnet", "fsi", "--exec", "--load:{dir}/cuttle-bootstrap.fsx",
                                        script, "--", "a b", "", "--help", "@file", "--", "-I:x"}));
  }
}

TEST(fsharp_plan, writes_the_bootstrap_and_fsharp_modules_only) {
  variables vars;
  vars.set("Octopus.Script.Module[My Greeter-1]", "module MyGreeter1\r\nlet hi () = \"hi\"\r\n");
  vars.set("Octopus.Script.Module.Language[My Greeter-1]", "FSharp");
  vars.set("Octopus.Script.Module[Py]", "X = 1\n");
  vars.set("Octopus.Script.Module.Language[Py]", "Python");
  vars.set("Octopus.Script.Module[Ps]", "function F {}");  // no language: PowerShell
  const auto plan = bs::plan_launch(bs::language::fsharp, "/nonexistent/x.fsx", {}, vars);
  ASSERT_EQ(plan.files.size(), 2u);
  EXPECT_EQ(plan.files[0].name, "cuttle-bootstrap.fsx");
  EXPECT_EQ(plan.files[0].content, bs::preamble(bs::language::fsharp));
  EXPECT_EQ(plan.files[1].name, "MyGreeter1.fsx");
  EXPECT_EQ(plan.files[1].content, "module MyGreeter1\r\nlet hi () = \"hi\"\r\n");
  EXPECT_EQ(bs::preamble(bs::language::fsharp).rfind("// cuttle F# bootstrap", 0), 0u);
  EXPECT_TRUE(bs::is_supported(bs::language::fsharp));
}

TEST(fsharp_plan, no_value_reaches_a_file_or_the_command_line) {
  const std::string secret = "Sup3r-S3cret-7d2e90";
  variables vars;
  vars.set("Password", secret, true);
  vars.set(secret, "a name can be secret too");
  EXPECT_EQ(bs::preamble(bs::language::fsharp).find(secret), std::string::npos);
  const auto plan = bs::plan_launch(bs::language::fsharp, "/abs/script.fsx", {"arg"}, vars);
  for (const auto& f : plan.files) EXPECT_EQ(f.content.find(secret), std::string::npos) << f.name;
  for (const auto& a : plan.argv) EXPECT_EQ(a.find(secret), std::string::npos);
}

// --- the helpers, run by F# Interactive
// ------------------------------------------------------------------------

TEST(fsharp_helpers, calamari_fixtures_and_every_helper_have_the_exact_output) {
  REQUIRE_DOTNET();
  variables vars;
  vars.set("Name", "Paul");
  vars.set("Nothing", std::nullopt);
  auto r = run_fsharp(
      "Octopus.setVariable \"Donkey\" \"Kong\"\n"
      "setSensitiveVariable \"Password\" \"correct horse battery staple\"\n"
      "setVariable \"Empty\" \"\"\n"
      "System.IO.Directory.CreateDirectory \"Temp\" |> ignore\n"
      "System.IO.File.WriteAllText(\"Temp/myFile.txt\", String.replicate 100 \"x\")\n"
      "Octopus.createArtifact \"Temp/myFile.txt\" None\n"
      "createArtifact \"/home/file.txt\" (Some \"Shown name.log\")\n"
      "updateProgress 50 \"Half Way\"\n"
      "updateProgress 75 null\n"
      "writeVerbose \"Hello verbose! 100% done {0}\"\n"
      "writeHighlight \"hi\"\n"
      "writeWait \"w\"\n"
      "writeWarning \"Hello warning!\"\n"
      "printfn \"Hello %s\" (match tryFindVariable \"Name\" with Some v -> v | None -> \"not available\")\n"
      "printfn \"Hello %s|\" (findVariable \"Nothing\")\n"
      "printfn \"Hello %s\" (findVariableOrDefault \"default value\" \"Missing\")\n"
      "printfn \"%A %A\" (tryFindVariable \"name\") (tryFindVariable \"Missing\")\n"
      "try findVariable \"Missing\" |> ignore with e -> printfn \"%s: %s\" (e.GetType().Name) e.Message\n"
      "printfn \"%s|%s\" (findVariable \"Donkey\") (Octopus.findVariable \"Empty\")\n",
      vars);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const auto m = messages(r.out);
  ASSERT_EQ(m.size(), 19u) << r.out;  // the log levels' brackets are messages too
  const auto artifact = m[5];
  EXPECT_TRUE(attribute(artifact, "path").ends_with("/Temp/myFile.txt")) << artifact;
  EXPECT_EQ(attribute(artifact, "path").front(), '/');
  EXPECT_TRUE(contains(artifact, "name='bXlGaWxlLnR4dA==' length='MTAw']")) << artifact;
  const auto expected =
      "##octopus[setVariable name='RG9ua2V5' value='S29uZw==']\n"
      "##octopus[setVariable name='UGFzc3dvcmQ=' value='Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==' "
      "sensitive='VHJ1ZQ==']\n"
      "##octopus[setVariable name='RW1wdHk=' value='']\n"
      "##octopus[stdout-verbose]\nArtifact myFile.txt will be collected from " +
      attribute(artifact, "path") + " after this step completes\n##octopus[stdout-default]\n" + artifact +
      "\n"
      "##octopus[stdout-verbose]\nArtifact Shown name.log will be collected from /home/file.txt after this "
      "step completes\n##octopus[stdout-default]\n"
      "##octopus[createArtifact path='L2hvbWUvZmlsZS50eHQ=' name='" +
      base64("Shown name.log") +
      "' length='MA==']\n"
      "##octopus[progress percentage='NTA=' message='SGFsZiBXYXk=']\n"
      "##octopus[progress percentage='NzU=' message='']\n"
      "##octopus[stdout-verbose]\nHello verbose! 100% done {0}\n##octopus[stdout-default]\n"
      "##octopus[stdout-highlight]\nhi\n##octopus[stdout-default]\n"
      "##octopus[stdout-wait]\nw\n##octopus[stdout-default]\n"
      "##octopus[stdout-warning]\nHello warning!\n##octopus[stdout-default]\n"
      "Hello Paul\nHello |\nHello default value\nNone None\n"
      "KeyNotFoundException: Missing variable has not been found.\n"
      "Kong|\n";
  EXPECT_EQ(r.out, expected);
}

TEST(fsharp_helpers, fail_step_exits_255_with_its_message_and_cannot_be_caught) {
  REQUIRE_DOTNET();
  auto r = run_fsharp(
      "try\n"
      "    failStep \"Custom failure message\"\n"
      "with _ -> printfn \"caught\"\n"
      "printfn \"not reached\"\n");
  EXPECT_EQ(r.exit_code, bs::fail_step_exit_code) << r.err;
  EXPECT_EQ(r.out, "##octopus[resultMessage message='Q3VzdG9tIGZhaWx1cmUgbWVzc2FnZQ==']\n");
  EXPECT_EQ(r.err, "");
  r = run_fsharp("printfn \"before\"\nOctopus.failStep null\n");
  EXPECT_EQ(r.exit_code, 255);
  EXPECT_EQ(r.out, "before\n");
}

TEST(fsharp_helpers, arguments_are_fsi_command_line_args_after_the_script_verbatim) {
  REQUIRE_DOTNET();
  const std::vector<std::string> args = {"Para meter0", "Parameter1", "",   "it's \"q\"", "$(x) `y`",
                                         "--help",      "@file",      "--", "-I:x",       "--exec"};
  auto r = run_fsharp(
      "printfn \"Parameters %s-%s\" fsi.CommandLineArgs.[1] fsi.CommandLineArgs.[2]\n"
      "printfn \"%s\" (System.IO.Path.GetFileName fsi.CommandLineArgs.[0])\n"
      "for a in fsi.CommandLineArgs.[1..] do printfn \"[%s]\" a\n",
      {}, args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string expected = "Parameters Para meter0-Parameter1\nscript.fsx\n";
  for (const auto& a : args) expected += "[" + a + "]\n";
  EXPECT_EQ(r.out, expected);
}

TEST(fsharp_helpers, without_an_sdk_beside_dotnet_it_runs_dotnet_fsi_with_the_same_arguments) {
  REQUIRE_DOTNET();
  // A `dotnet` that is a wrapper script has no SDK beside it, so the plan falls back to `dotnet fsi`.
  std::string real;
  for (const auto& dir : {"/usr/bin", "/usr/local/bin", "/usr/share/dotnet"}) {
    std::error_code ec;
    if (real.empty() && std::filesystem::exists(std::string(dir) + "/dotnet", ec))
      real = std::filesystem::canonical(std::string(dir) + "/dotnet").string();
  }
  if (real.empty()) GTEST_SKIP() << "dotnet is not in /usr/bin, /usr/local/bin or /usr/share/dotnet";
  cuttle::test::temp_dir dir;
  std::filesystem::create_directories(dir.path() / "bin");
  ::chmod(dir.write("bin/dotnet", "#!/bin/sh\nexec '" + real + "' \"$@\"\n").c_str(), 0755);
  const auto script = dir.write("s.fsx", "for a in fsi.CommandLineArgs.[1..] do printfn \"[%s]\" a\n");
  const std::vector<std::string> args = {"a b", "", "--help", "@file", "--", "-I:x"};
  const char* inherited = std::getenv("PATH");
  const std::string path = (dir.path() / "bin").string() + ":" + (inherited != nullptr ? inherited : "");
  bs::launch_plan plan;
  {
    const scoped_path scoped(path);
    plan = bs::plan_launch(bs::language::fsharp, script, args, {});
  }
  ASSERT_EQ(plan.argv.at(1), "fsi");
  auto options = slow_options();
  options.env = {"PATH=" + path};
  const auto r = cuttle::test::run_plan(plan, "CUTTLE1\0"s, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string expected;
  for (const auto& a : args) expected += "[" + a + "]\n";
  EXPECT_EQ(r.out, expected);
}

TEST(fsharp_helpers, exit_codes_exceptions_and_compile_errors) {
  REQUIRE_DOTNET();
  auto r = run_fsharp("printfn \"Hello!\"\nexit 7\n");
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_EQ(r.out, "Hello!\n");
  r = run_fsharp("printfn \"before\"\nlet fail () : unit = failwith \"boom\"\nfail ()\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "before\n");
  EXPECT_TRUE(contains(r.err, "System.Exception: boom")) << r.err;
  EXPECT_TRUE(contains(r.err, "script.fsx:line 3")) << r.err;
  r = run_fsharp("printfn \"never\"\nlet x: int = \"text\"\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "script.fsx(2,14): error FS0001")) << r.err;
  EXPECT_FALSE(contains(r.err, "cuttle-bootstrap")) << r.err;
}

TEST(fsharp_helpers, load_finds_script_modules_and_files_beside_the_script) {
  REQUIRE_DOTNET();
  variables vars;
  vars.set("Octopus.Script.Module[Greeter]", "module Greeter\nlet hello () = \"Hello from module!\"\n");
  vars.set("Octopus.Script.Module.Language[Greeter]", "FSharp");
  vars.set("Octopus.Script.Module[Shell]", "say() { :; }");
  vars.set("Octopus.Script.Module.Language[Shell]", "Bash");
  cuttle::test::temp_dir dir;
  dir.write("Sibling.fsx", "module Sibling\nlet name = \"sibling\"\n");
  const auto script = dir.write("main.fsx",
                                "#load \"Greeter.fsx\"\n#load \"Sibling.fsx\"\n"
                                "printfn \"%s %s %s\" (Greeter.hello ()) Sibling.name (findVariable "
                                "\"Octopus.Script.Module.Language[Greeter]\")\n");
  auto options = slow_options();
  options.cwd = "/";
  const auto plan = bs::plan_launch(bs::language::fsharp, script, {}, vars);
  auto r = cuttle::test::run_plan(plan, bs::encode_variables(vars).data, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Hello from module! sibling FSharp\n");
  EXPECT_EQ(r.err, "");
}

TEST(fsharp_helpers, values_round_trip_and_sets_are_seen_by_later_lookups) {
  REQUIRE_DOTNET();
  const std::vector<std::string> values = {"",
                                           "  padded  ",
                                           "line1\nline2\r\nline3",
                                           "tab\there",
                                           "emoji 😀 漢字 e\u0301",
                                           "\u200F\u202Ertl",
                                           "\x1b[31mred\x1b[0m",
                                           "'\"$`\\%{0}",
                                           "a=b=c=d"};
  variables vars;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < values.size(); ++i) {
    names.push_back("V" + std::to_string(i));
    vars.set(names.back(), values[i]);
  }
  vars.set("Bytes", "\xff ok \xc3");
  names.push_back("Bytes");
  auto r = run_fsharp(
      "for n in fsi.CommandLineArgs.[1..] do setVariable n (findVariable n)\n"
      "setVariable \"V0\" \"changed\"\n"
      "printfn \"%s\" (findVariable \"V0\")\n",
      vars, names);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto m = messages(r.out);
  ASSERT_EQ(m.size(), names.size() + 1) << r.out;
  for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(attribute(m[i], "value"), values[i]) << i;
  // Invalid UTF-8 becomes U+FFFD: .NET strings hold text, not bytes.
  EXPECT_EQ(attribute(m[values.size()], "value"), "\xef\xbf\xbd ok \xef\xbf\xbd");
  EXPECT_TRUE(r.out.ends_with("\nchanged\n")) << r.out;
}

// --- the variables channel
// -----------------------------------------------------------------------------------

TEST(fsharp_channel, descriptor_is_closed_and_variable_removed_before_the_script) {
  REQUIRE_DOTNET();
  const std::string secret = "Sup3r-S3cret-3a9f42";
  variables vars;
  vars.set("Password", secret, true);
  auto options = slow_options();
  options.env = {"HALF1=" + secret.substr(0, 8), "HALF2=" + secret.substr(8)};
  auto r = run_fsharp(
      "let expected = System.Environment.GetEnvironmentVariable \"HALF1\" + "
      "System.Environment.GetEnvironmentVariable \"HALF2\"\n"
      "printfn \"%s\" (if findVariable \"Password\" = expected then \"seen\" else \"not seen\")\n"
      "printfn \"env:%s\" (match System.Environment.GetEnvironmentVariable \"CUTTLE_VARIABLES_FD\" with null "
      "-> "
      "\"unset\" | v -> v)\n"
      "let env = System.Diagnostics.Process.Start(System.Diagnostics.ProcessStartInfo(\"env\", "
      "RedirectStandardOutput = true))\n"
      "let listing = env.StandardOutput.ReadToEnd()\n"
      "env.WaitForExit()\n"
      "printfn \"%b\" (listing.Contains \"CUTTLE_VARIABLES_FD\")\n"
      "let links = System.IO.Directory.GetFiles \"/proc/self/fd\" |> Array.map (fun f -> try "
      "System.IO.FileInfo(f).LinkTarget with _ -> null)\n"
      "printfn \"%d\" (links |> Array.filter (fun l -> not (isNull l) && l.Contains "
      "\"memfd:cuttle-variables\") "
      "|> Array.length)\n"
      "for f in [\"cmdline\"; \"environ\"] do printfn \"%b\" "
      "((System.IO.File.ReadAllText(\"/proc/self/\" + f)).Contains expected)\n",
      vars, {}, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "seen\nenv:unset\nfalse\n0\nfalse\nfalse\n");
}

TEST(fsharp_channel, missing_channel_means_no_variables_and_a_bad_one_fails) {
  REQUIRE_DOTNET();
  auto options = slow_options();
  options.with_channel = false;
  auto r = run_fsharp("printfn \"%A\" (tryFindVariable \"Name\")\n", {}, {}, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "None\n");
  // (A low unused number may already be taken by a file the .NET runtime opened, which then fails as "not a
  // cuttle payload"; a descriptor the runner passes is open from the start, so it never is.)
  cuttle::test::expect_bad_channels_refused(bs::language::fsharp, "s.fsx", "printfn \"ran\"\n", 1000);
}

TEST(fsharp_channel, tentacle_proxy_variables_configure_the_default_proxy) {
  REQUIRE_DOTNET();
  auto options = slow_options();
  options.env = {"TentacleProxyHost=proxy.example", "TentacleProxyPort=8080"};
  options.unset = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                   "no_proxy",   "NO_PROXY",   "all_proxy"};
  auto r = run_fsharp(
      "printfn \"%O\" (System.Net.Http.HttpClient.DefaultProxy.GetProxy(System.Uri "
      "\"http://deploy.test/\"))\n",
      {}, {}, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "http://proxy.example:8080/\n");
}

// --- one property, batched: each run costs a second or more, so one run checks many names and values ------

std::string awkward_text() { return cuttle::test::awkward_text({"{0}", "%s", "\"\"\"", "(*", "//", "@\""}); }

TEST(fsharp_props, names_and_values_round_trip_in_batches) {
  REQUIRE_DOTNET();
  auto params = rc::detail::configuration().testParams;
  params.maxSuccess = std::min(params.maxSuccess, 4);
  params.disableShrinking = true;  // a shrink step is a run: the failing batch is printed as it is
  rc::detail::TestMetadata metadata;
  metadata.id = "fsharp_props/names_and_values_round_trip_in_batches";
  metadata.description = metadata.id;
  const auto result = rc::detail::checkTestable(
      [] {
        variables vars;
        for (int i = 0; i < 50; ++i) vars.set(awkward_text(), awkward_text());
        std::vector<std::string> names;
        for (const auto& e : vars.entries()) names.push_back(e.name);
        auto r = run_fsharp(
            "for n in fsi.CommandLineArgs.[1..] do\n"
            "    setVariable n (findVariable n)\n"
            "    Octopus.setSensitiveVariable n (tryFindVariable n).Value\n",
            vars, names);
        RC_ASSERT(r.exit_code == 0);
        const auto m = messages(r.out);
        RC_ASSERT(m.size() == 2 * names.size());
        for (std::size_t i = 0; i < m.size(); ++i) {
          const auto& name = names[i / 2];
          RC_ASSERT(attribute(m[i], "name") == name);
          RC_ASSERT(attribute(m[i], "value") == vars.get(name).value_or(""));
          RC_ASSERT((attribute(m[i], "sensitive") == "True") == (i % 2 == 1));
        }
      },
      metadata, params);
  if (!result.is<rc::detail::SuccessResult>()) {
    std::ostringstream report;
    rc::detail::printResultMessage(result, report);
    FAIL() << report.str();
  }
}

}  // namespace

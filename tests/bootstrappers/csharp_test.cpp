// The C# preamble run by the real cuttle-csharp-host (Roslyn scripting): every helper's exact output in both
// API forms, arguments, #load and #r, compile errors, exceptions, exit codes, the variables channel, and the
// launch plan (which decides whether the class form `Octopus.X` is there).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
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

std::string host_dll() { return cuttle::test::libexec_dir() + "/csharp-host/cuttle-csharp-host.dll"; }

// Every run costs about a second (the Roslyn compile), so tests batch their checks into few runs.
#define REQUIRE_CSHARP()                                                                           \
  do {                                                                                             \
    if (!cuttle::test::on_path("dotnet")) GTEST_SKIP() << "dotnet is not installed (not on PATH)"; \
    if (::access(host_dll().c_str(), R_OK) != 0)                                                   \
      GTEST_SKIP() << host_dll() << " is missing: configure with the .NET SDK installed";          \
  } while (false)

using cuttle::test::slow_options;

script_result run_csharp(std::string_view source, const variables& vars = {},
                         const std::vector<std::string>& args = {}, script_options options = slow_options()) {
  return cuttle::test::run_source(bs::language::csharp, source, vars, args, options, "script.csx");
}

std::vector<std::string> messages(const std::string& out) { return cuttle::test::service_messages(out); }
std::string attribute(const std::string& message, const std::string& attr) {
  return cuttle::test::message_attribute(message, attr);
}
bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// --- launch plans (no host needed)
// ---------------------------------------------------------------------------

constexpr std::string_view class_form = "public static class Octopus\n";
constexpr std::string_view toggle = "Octopus.Action.Script.CSharp.UseOctopusClassBootstrapper";

TEST(csharp_plan, runs_the_host_with_the_bootstrap_script_and_arguments) {
  const auto plan = bs::plan_launch(bs::language::csharp, "/nonexistent/deploy.csx", {"a b", ""}, {});
  EXPECT_EQ(plan.argv,
            (std::vector<std::string>{"dotnet", "{libexec}/csharp-host/cuttle-csharp-host.dll",
                                      "{dir}/cuttle-bootstrap.csx", "/nonexistent/deploy.csx", "a b", ""}));
  ASSERT_EQ(plan.files.size(), 1u);
  EXPECT_EQ(plan.files[0].name, "cuttle-bootstrap.csx");
  EXPECT_EQ(bs::preamble(bs::language::csharp).rfind("// cuttle C# bootstrap", 0), 0u);
  EXPECT_TRUE(bs::is_supported(bs::language::csharp));
}

TEST(csharp_plan, csharp_modules_become_csx_files) {
  variables vars;
  vars.set("Octopus.Script.Module[My Module-1]", "static string Hi() => \"hi\";\r\n");
  vars.set("Octopus.Script.Module.Language[My Module-1]", "CSharp");
  vars.set("Octopus.Script.Module[Py]", "X = 1\n");
  vars.set("Octopus.Script.Module.Language[Py]", "Python");
  const auto plan = bs::plan_launch(bs::language::csharp, "/nonexistent/x.csx", {}, vars);
  ASSERT_EQ(plan.files.size(), 2u);
  EXPECT_EQ(plan.files[1].name, "MyModule1.csx");
  EXPECT_EQ(plan.files[1].content, "static string Hi() => \"hi\";\r\n");
}

TEST(csharp_plan, class_form_follows_the_toggle_or_the_script) {
  cuttle::test::temp_dir dir;
  const auto plain = dir.write(
      "plain.csx", "using Octopus.Client;\nWriteLine(OctopusParameters[\"Octopus.Action.Name\"]);\n");
  const auto uses = dir.write("uses.csx", "WriteLine(Octopus .\n  Parameters[\"Name\"]);\n");
  const auto near_miss = dir.write("near.csx", "MyOctopus.Parameters.Clear(); Octopus.ParametersX();\n");
  auto has_class = [](const std::string& script, const variables& vars) {
    const auto plan = bs::plan_launch(bs::language::csharp, script, {}, vars);
    return contains(plan.files.at(0).content, class_form);
  };
  EXPECT_FALSE(has_class(plain, {}));
  EXPECT_TRUE(has_class(uses, {}));
  EXPECT_FALSE(has_class(near_miss, {}));
  EXPECT_TRUE(has_class("/nonexistent/missing.csx", {}));
  variables on;
  on.set(std::string(toggle), " true ");
  EXPECT_TRUE(has_class(plain, on));
  variables off;
  off.set(std::string(toggle), "False");
  EXPECT_FALSE(has_class(uses, off));
  variables junk;
  junk.set(std::string(toggle), "yes");  // not a .NET bool: decided by the script, as when unset
  EXPECT_FALSE(has_class(plain, junk));
  EXPECT_TRUE(has_class(uses, junk));
  variables module;
  module.set("Octopus.Script.Module[M]", "static void Go() => Octopus.SetVariable(\"a\", \"b\");");
  module.set("Octopus.Script.Module.Language[M]", "CSharp");
  EXPECT_TRUE(has_class(plain, module));
  // What `cuttle bootstrap` prints has both forms.
  EXPECT_TRUE(contains(bs::preamble(bs::language::csharp), class_form));
}

TEST(csharp_plan, no_value_reaches_a_file_or_the_command_line) {
  const std::string secret = "Sup3r-S3cret-4b8a1d";
  variables vars;
  vars.set("Password", secret, true);
  vars.set(secret, "a name can be secret too");
  EXPECT_EQ(bs::preamble(bs::language::csharp).find(secret), std::string::npos);
  const auto plan = bs::plan_launch(bs::language::csharp, "/abs/script.csx", {"arg"}, vars);
  for (const auto& f : plan.files) EXPECT_EQ(f.content.find(secret), std::string::npos) << f.name;
  for (const auto& a : plan.argv) EXPECT_EQ(a.find(secret), std::string::npos);
}

// --- the helpers, run by the host
// ----------------------------------------------------------------------------

TEST(csharp_helpers, parameters_are_case_insensitive_in_both_forms) {
  REQUIRE_CSHARP();
  variables vars;
  vars.set("Name", "Paul");
  vars.set("Foo_bar", "Hello");
  vars.set("Nothing", std::nullopt);
  vars.set("Octopus.Action.Name", "Deploy Web");
  auto r = run_csharp(
      "WriteLine(\"Hello \" + OctopusParameters[\"Name\"]);\n"
      "WriteLine(\"Hello \" + Octopus.Parameters[\"name\"] + \" \" + OctopusParameters[\"FOO_BAR\"]);\n"
      "WriteLine($\"[{OctopusParameters[\"Nothing\"]}] {OctopusParameters.ContainsKey(\"Missing\")} \" +\n"
      "          $\"{OctopusParameters[\"octopus.action.name\"]} {ReferenceEquals(OctopusParameters, "
      "Octopus.Parameters)}\");\n"
      "try { _ = OctopusParameters[\"Missing\"]; } catch (KeyNotFoundException) { WriteLine(\"missing "
      "throws\"); }\n",
      vars);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Hello Paul\nHello Paul Hello\n[] False Deploy Web True\nmissing throws\n");
  EXPECT_EQ(r.err, "");
}

TEST(csharp_helpers, set_variable_matches_calamari_in_both_forms_and_updates_the_dictionary) {
  REQUIRE_CSHARP();
  auto r = run_csharp(
      "SetVariable(\"Donkey\", \"Kong\");\n"
      "Octopus.SetVariable(\"Password\", \"correct horse battery staple\", true);\n"
      "SetVariable(\"Empty\", \"\", sensitive: false);\n"
      "Octopus.SetVariable(\"Null\", null);\n"
      "WriteLine(OctopusParameters[\"donkey\"] + \" \" + Octopus.Parameters[\"Password\"] + \" [\" +\n"
      "          OctopusParameters[\"Empty\"] + \"]\");\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "##octopus[setVariable name='RG9ua2V5' value='S29uZw==']\n"
            "##octopus[setVariable name='UGFzc3dvcmQ=' value='Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==' "
            "sensitive='VHJ1ZQ==']\n"
            "##octopus[setVariable name='RW1wdHk=' value='']\n"
            "##octopus[setVariable name='TnVsbA==' value='']\n"
            "Kong correct horse battery staple []\n");
}

TEST(csharp_helpers, create_artifact_matches_calamari) {
  REQUIRE_CSHARP();
  auto r = run_csharp(
      "CreateArtifact(\"/home/file.txt\");\n"
      "Directory.CreateDirectory(\"Temp\");\n"
      "File.WriteAllText(\"Temp/myFile.txt\", new string('x', 100));\n"
      "Octopus.CreateArtifact(\"Temp/myFile.txt\");\n"
      "CreateArtifact(\"Temp/myFile.txt\", fileName: \"Shown name.log\");\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto m = messages(r.out);
  ASSERT_EQ(m.size(), 9u) << r.out;
  EXPECT_TRUE(r.out.starts_with(
      "##octopus[stdout-verbose]\n"
      "Artifact file.txt will be collected from /home/file.txt after this step completes\n"
      "##octopus[stdout-default]\n"
      "##octopus[createArtifact path='L2hvbWUvZmlsZS50eHQ=' name='ZmlsZS50eHQ=' length='MA==']\n"))
      << r.out;
  // calamari-spec §7.4: name='bXlGaWxlLnR4dA==' length='MTAw'.
  EXPECT_TRUE(m[5].starts_with("##octopus[createArtifact path='")) << m[5];
  EXPECT_TRUE(m[5].ends_with("' name='bXlGaWxlLnR4dA==' length='MTAw']")) << m[5];
  const auto path = attribute(m[5], "path");
  EXPECT_EQ(path.front(), '/');
  EXPECT_TRUE(path.ends_with("/Temp/myFile.txt")) << path;
  EXPECT_TRUE(contains(r.out, "Artifact myFile.txt will be collected from " + path + " after this step"));
  EXPECT_EQ(attribute(m[8], "name"), "Shown name.log");
  EXPECT_EQ(attribute(m[8], "path"), path);
  EXPECT_EQ(attribute(m[8], "length"), "100");
}

TEST(csharp_helpers, update_progress_and_log_levels_match_calamari_in_both_forms) {
  REQUIRE_CSHARP();
  auto r = run_csharp(
      "UpdateProgress(50, \"Half Way\");\nOctopus.UpdateProgress(75);\nUpdateProgress(-1, null);\n"
      "Console.WriteLine(\"Hello!\");\n"
      "WriteVerbose(\"Hello verbose!\");\nWriteHighlight(\"hi\");\nWriteWait(\"w\");\n"
      "WriteWarning(\"Hello warning!\");\n"
      "Octopus.WriteVerbose(\"two\\nlines\");\nOctopus.WriteHighlight(\"\");\nOctopus.WriteWait(null);\n"
      "Octopus.WriteWarning(\"* $HOME `x`  \");\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "##octopus[progress percentage='NTA=' message='SGFsZiBXYXk=']\n"
            "##octopus[progress percentage='NzU=' message='']\n"
            "##octopus[progress percentage='LTE=' message='']\n"
            "Hello!\n"
            "##octopus[stdout-verbose]\nHello verbose!\n##octopus[stdout-default]\n"
            "##octopus[stdout-highlight]\nhi\n##octopus[stdout-default]\n"
            "##octopus[stdout-wait]\nw\n##octopus[stdout-default]\n"
            "##octopus[stdout-warning]\nHello warning!\n##octopus[stdout-default]\n"
            "##octopus[stdout-verbose]\ntwo\nlines\n##octopus[stdout-default]\n"
            "##octopus[stdout-highlight]\n\n##octopus[stdout-default]\n"
            "##octopus[stdout-wait]\n\n##octopus[stdout-default]\n"
            "##octopus[stdout-warning]\n* $HOME `x`  \n##octopus[stdout-default]\n");
}

TEST(csharp_helpers, fail_step_exits_255_with_its_message_in_both_forms) {
  REQUIRE_CSHARP();
  auto r = run_csharp(
      "Console.WriteLine(\"before\");\nFailStep(\"Custom failure message\");\n"
      "Console.WriteLine(\"not reached\");\n");
  EXPECT_EQ(r.exit_code, bs::fail_step_exit_code);
  EXPECT_EQ(r.out, "before\n##octopus[resultMessage message='Q3VzdG9tIGZhaWx1cmUgbWVzc2FnZQ==']\n");
  EXPECT_EQ(r.err, "");
  // A catch or finally in the script cannot swallow it.
  r = run_csharp("try { Octopus.FailStep(); } catch (Exception) { WriteLine(\"caught\"); }\nreturn 0;\n");
  EXPECT_EQ(r.exit_code, 255);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
}

TEST(csharp_helpers, arguments_keep_spaces_and_quotes_in_args_and_env_script_args) {
  REQUIRE_CSHARP();
  auto r = run_csharp(
      "WriteLine(\"Parameters \" + Env.ScriptArgs[0] + Env.ScriptArgs[1]);\n"
      "foreach (var a in Args) WriteLine(\"<\" + a + \">\");\n"
      "WriteLine(Args.Count + \" \" + ReferenceEquals(Args, Env.ScriptArgs));\n",
      {}, {"Para meter0", "it's \"q\"", "", "$(x) `y` \\z", "-- -x"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      r.out,
      "Parameters Para meter0it's \"q\"\n<Para meter0>\n<it's \"q\">\n<>\n<$(x) `y` \\z>\n<-- -x>\n5 True\n");
}

TEST(csharp_helpers, script_members_and_classes_see_the_helpers_and_may_shadow_them) {
  REQUIRE_CSHARP();
  auto r = run_csharp(
      "class Deployer { public static void Run() { SetVariable(\"From\", \"class\"); "
      "WriteLine(OctopusParameters.Count); } }\n"
      "Deployer.Run();\n"
      "static void WriteWait(string message) => Console.WriteLine(\"my own \" + message);\n"
      "WriteWait(\"wait\");\n"
      "var __CuttleBootstrap = 5; WriteLine(__CuttleBootstrap);\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "##octopus[setVariable name='RnJvbQ==' value='Y2xhc3M=']\n1\nmy own wait\n5\n");
}

TEST(csharp_helpers, exit_codes_pass_through) {
  REQUIRE_CSHARP();
  auto r = run_csharp("WriteLine(\"Hello\");\nreturn 3;\n");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out, "Hello\n");
  r = run_csharp("Console.Out.Write(\"partial\");\nEnvironment.Exit(7);\n");
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_EQ(r.out, "partial");
  r = run_csharp("await Task.Delay(1);\nEnvironment.ExitCode = 4;\n");
  EXPECT_EQ(r.exit_code, 4) << r.err;
}

TEST(csharp_helpers, a_missing_script_exits_2) {
  REQUIRE_CSHARP();
  const auto plan = bs::plan_launch(bs::language::csharp, "/nonexistent/deploy.csx", {}, {});
  auto r = cuttle::test::run_plan(plan, bs::encode_variables({}).data, slow_options());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(r.err.starts_with("cuttle: cannot open the script '/nonexistent/deploy.csx': ")) << r.err;
}

TEST(csharp_helpers, an_uncaught_exception_exits_1_with_its_trace_in_the_script) {
  REQUIRE_CSHARP();
  auto r = run_csharp(
      "WriteLine(\"before\");\nvoid Boom() => throw new InvalidOperationException(\"boom\");\nBoom();\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "before\n");
  EXPECT_TRUE(r.err.starts_with("Unhandled exception. System.InvalidOperationException: boom\n")) << r.err;
  EXPECT_TRUE(contains(r.err, "script.csx:line 2")) << r.err;
  EXPECT_TRUE(contains(r.err, "script.csx:line 3")) << r.err;
  EXPECT_FALSE(contains(r.err, "Microsoft.CodeAnalysis")) << r.err;
}

TEST(csharp_helpers, a_compile_error_exits_1_naming_file_line_and_column) {
  REQUIRE_CSHARP();
  auto r = run_csharp("WriteLine(\"never printed\");\nvar x = 1;\n  Undefined(x);\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(
      r.err, "/script.csx(3,3): error CS0103: The name 'Undefined' does not exist in the current context\n"))
      << r.err;
  EXPECT_FALSE(contains(r.err, "cuttle-bootstrap")) << r.err;
  // NuGet references are refused with a clear message where they are written.
  r = run_csharp("// first line\n#r \"nuget: Newtonsoft.Json, 13.0.3\"\nWriteLine(1);\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err,
                       "/script.csx(2,1): error CS0006: #r \"nuget: Newtonsoft.Json, 13.0.3\": NuGet "
                       "package references are not supported"))
      << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(csharp_helpers, load_finds_script_modules_and_siblings_and_r_loads_a_dll) {
  REQUIRE_CSHARP();
  variables vars;
  vars.set("Octopus.Script.Module[Greeter]", "static string Hello() => \"Hello from module!\";\n");
  vars.set("Octopus.Script.Module.Language[Greeter]", "CSharp");
  cuttle::test::temp_dir dir;
  dir.write("sibling.csx", "#load \"Greeter.csx\"\nstatic string Sibling() => \"sibling\";\n");
  std::filesystem::create_directory(dir.path() / "lib");
  std::filesystem::copy_file(
      cuttle::test::libexec_dir() + "/csharp-host/Microsoft.CodeAnalysis.Scripting.dll",
      dir.path() / "lib" / "Microsoft.CodeAnalysis.Scripting.dll");
  const auto script =
      dir.write("main.csx",
                "#load \"Greeter.csx\"\n#load \"sibling.csx\"\n#r \"lib/Microsoft.CodeAnalysis."
                "Scripting.dll\"\n"
                "WriteLine(Hello() + \" \" + Sibling() + \" \" + "
                "typeof(Microsoft.CodeAnalysis.Scripting.ScriptOptions).Name);\n");
  auto options = slow_options();
  options.cwd = "/";
  const auto plan = bs::plan_launch(bs::language::csharp, script, {}, vars);
  auto r = cuttle::test::run_plan(plan, bs::encode_variables(vars).data, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Hello from module! sibling ScriptOptions\n");
  // Without the #r, the script does not see the host's own assemblies.
  const auto bare =
      dir.write("bare.csx", "WriteLine(typeof(Microsoft.CodeAnalysis.Scripting.ScriptOptions));\n");
  r = cuttle::test::run_plan(bs::plan_launch(bs::language::csharp, bare, {}, {}),
                             bs::encode_variables({}).data, options);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "bare.csx(1,")) << r.err;
}

// The class Octopus hides a namespace Octopus (Octopus.Client.dll): without the toggle, a script that does
// not use the class form compiles against such an assembly; with the toggle on, it cannot.
TEST(csharp_helpers, class_form_is_left_out_for_scripts_using_an_octopus_namespace) {
  REQUIRE_CSHARP();
  cuttle::test::temp_dir dir;
  const auto maker = dir.write("make.csx",
                               "using System.Reflection;\nusing System.Reflection.Emit;\n"
                               "var a = new PersistedAssemblyBuilder(new AssemblyName(\"Octopus.Client\"), "
                               "typeof(object).Assembly);\n"
                               "var t = a.DefineDynamicModule(\"Octopus.Client\").DefineType("
                               "\"Octopus.Client.OctopusRepository\", TypeAttributes.Public | "
                               "TypeAttributes.Class);\n"
                               "t.DefineDefaultConstructor(MethodAttributes.Public);\nt.CreateType();\n"
                               "a.Save(Path.Combine(Args[0], \"Octopus.Client.dll\"));\n");
  auto options = slow_options();
  auto r = cuttle::test::run_plan(bs::plan_launch(bs::language::csharp, maker, {dir.path().string()}, {}),
                                  bs::encode_variables({}).data, options);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto client = dir.write("client.csx",
                                "#r \"Octopus.Client.dll\"\nusing Octopus.Client;\n"
                                "WriteLine(new OctopusRepository().GetType().FullName + \" \" + "
                                "OctopusParameters.Count);\n");
  r = cuttle::test::run_plan(bs::plan_launch(bs::language::csharp, client, {}, {}),
                             bs::encode_variables({}).data, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Octopus.Client.OctopusRepository 0\n");
  variables on;
  on.set(std::string(toggle), "True");
  r = cuttle::test::run_plan(bs::plan_launch(bs::language::csharp, client, {}, on),
                             bs::encode_variables(on).data, options);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "client.csx(2,")) << r.err;
}

TEST(csharp_helpers, awkward_values_round_trip) {
  REQUIRE_CSHARP();
  const std::vector<std::string> values = {"",
                                           "'\"$`%\\",
                                           "line1\nline2\r\nline3\n",
                                           "\t padded \t",
                                           "😀 漢字 e\u0301",
                                           "\u200F\u202Eabc",
                                           "\x1b[31mred\x1b[0m",
                                           "a=b=c=d",
                                           "##octopus[stdout-ignore]",
                                           "]'"};
  variables vars;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < values.size(); ++i) {
    names.push_back("Name " + std::to_string(i) + " " + values[i]);
    vars.set(names.back(), values[i]);
  }
  vars.set("Bytes", "\xff ok \xc3");  // invalid UTF-8: each bad byte arrives as U+FFFD
  std::vector<std::string> args = names;
  args.push_back("Bytes");
  auto r = run_csharp("foreach (var n in Args) Octopus.SetVariable(n, OctopusParameters[n]);\n", vars, args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto m = messages(r.out);
  ASSERT_EQ(m.size(), values.size() + 1) << r.out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(attribute(m[i], "name"), names[i]);
    EXPECT_EQ(attribute(m[i], "value"), values[i]) << i;
  }
  EXPECT_EQ(attribute(m.back(), "value"), "\xef\xbf\xbd ok \xef\xbf\xbd");
}

// --- the variables channel
// -----------------------------------------------------------------------------------

TEST(csharp_channel, descriptor_is_closed_and_variable_removed_before_the_script) {
  REQUIRE_CSHARP();
  const std::string secret = "Sup3r-S3cret-1f6c0b";
  variables vars;
  vars.set("Password", secret, true);
  auto options = slow_options();
  options.env = {"HALF1=" + secret.substr(0, 8), "HALF2=" + secret.substr(8)};
  auto r = run_csharp(
      "var expected = Environment.GetEnvironmentVariable(\"HALF1\") + "
      "Environment.GetEnvironmentVariable(\"HALF2\");\n"
      "WriteLine(OctopusParameters[\"Password\"] == expected ? \"seen\" : \"not seen\");\n"
      "WriteLine(\"env:\" + (Environment.GetEnvironmentVariable(\"CUTTLE_VARIABLES_FD\") ?? \"unset\"));\n"
      "var env = Process.Start(new ProcessStartInfo(\"env\") { RedirectStandardOutput = true });\n"
      "var listing = env.StandardOutput.ReadToEnd(); env.WaitForExit();\n"
      "WriteLine(listing.Contains(\"CUTTLE_VARIABLES_FD\"));\n"
      "var links = Directory.GetFiles(\"/proc/self/fd\").Select(f => new FileInfo(f).LinkTarget ?? \"\");\n"
      "WriteLine(links.Count(l => l.Contains(\"memfd:cuttle-variables\")));\n"
      "foreach (var f in new[] { \"cmdline\", \"environ\" })\n"
      "    WriteLine(File.ReadAllText(\"/proc/self/\" + f).Contains(expected));\n",
      vars, {}, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "seen\nenv:unset\nFalse\n0\nFalse\nFalse\n");
}

TEST(csharp_channel, missing_channel_means_no_variables_and_a_bad_one_fails) {
  REQUIRE_CSHARP();
  auto options = slow_options();
  options.with_channel = false;
  auto r = run_csharp("WriteLine(OctopusParameters.Count);\n", {}, {}, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0\n");
  cuttle::test::expect_bad_channels_refused(bs::language::csharp, "s.csx", "WriteLine(\"ran\");\n", 99);
}

TEST(csharp_channel, tentacle_proxy_variables_configure_the_default_proxy) {
  REQUIRE_CSHARP();
  auto options = slow_options();
  options.env = {"TentacleProxyHost=proxy.example", "TentacleProxyPort=8080"};
  options.unset = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                   "no_proxy",   "NO_PROXY",   "all_proxy"};
  auto r = run_csharp(
      "WriteLine(System.Net.Http.HttpClient.DefaultProxy.GetProxy(new Uri(\"http://deploy.test/\")));\n", {},
      {}, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "http://proxy.example:8080/\n");
}

// --- one property, batched: each run costs a second, so one run checks many random names and values --------

std::string awkward_text() {
  return cuttle::test::awkward_text({"{0}", "\"\"\"", "@\"", "/*", "//", "\\u0041"});
}

// Not RC_GTEST_PROP: that takes the number of cases from RC_PARAMS (100 by default, 20,000 in the slow
// configuration), and each case here is a host run. The parameters are set in code instead: 6 runs of 50
// variables each, without shrinking (every shrink step would be another run; the failing batch is printed).
TEST(csharp_props, names_and_values_round_trip_in_batches) {
  REQUIRE_CSHARP();
  auto params = rc::detail::configuration().testParams;
  params.maxSuccess = std::min(params.maxSuccess, 6);
  params.disableShrinking = true;
  rc::detail::TestMetadata metadata;
  metadata.id = "csharp_props/names_and_values_round_trip_in_batches";
  metadata.description = metadata.id;
  const auto result = rc::detail::checkTestable(
      [] {
        variables vars;
        for (int i = 0; i < 50; ++i) vars.set(awkward_text(), awkward_text());
        std::vector<std::string> names;
        for (const auto& e : vars.entries()) names.push_back(e.name);
        auto r = run_csharp(
            "foreach (var n in Args) { SetVariable(n, OctopusParameters[n]); "
            "Octopus.SetVariable(n, Octopus.Parameters[n], true); }\n",
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

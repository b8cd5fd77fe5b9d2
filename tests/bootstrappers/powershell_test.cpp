// The PowerShell preamble: its launch plan and text (everywhere), and every helper's exact output,
// arguments, the automatic locals, script modules, exit codes and the variables channel, run by the real
// PowerShell 7 (pwsh), which skips where pwsh is not installed.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <string_view>
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

#define REQUIRE_PWSH()                                                                                 \
  if (!cuttle::test::on_path("pwsh"))                                                                  \
  GTEST_SKIP() << "pwsh (PowerShell 7) is not on PATH: scripts/setup.sh installs it with dotnet tool " \
                  "install --global PowerShell --version 7.6.10 (into ~/.dotnet/tools)"

using cuttle::test::slow_options;

script_result run_pwsh(std::string_view source, const variables& vars = {},
                       const std::vector<std::string>& args = {}, script_options options = slow_options()) {
  return cuttle::test::run_source(bs::language::powershell, source, vars, args, options, "script.ps1");
}

std::vector<std::string> messages(const std::string& out) { return cuttle::test::service_messages(out); }
std::string attribute(const std::string& message, const std::string& attr) {
  return cuttle::test::message_attribute(message, attr);
}
bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

/// What is wrong with the nesting of PowerShell source: {}, () and [] outside strings and comments must
/// balance, strings, here-strings and block comments must end. Empty when nothing is. (A sanity check, not
/// a parser: enough for text written to be checked this way.)
std::string nesting_problem(std::string_view text) {
  std::string open;
  std::size_t line = 1;
  auto at = [&line] { return " at line " + std::to_string(line); };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
    } else if (c == '`') {
      if (i + 1 < text.size() && text[i + 1] == '\n') ++line;
      ++i;  // an escaped character, or a line continuation
    } else if (c == '#') {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
    } else if (c == '<' && i + 1 < text.size() && text[i + 1] == '#') {
      const auto end = text.find("#>", i + 2);
      if (end == std::string_view::npos) return "unterminated block comment" + at();
      line += static_cast<std::size_t>(std::count(text.begin() + i, text.begin() + end, '\n'));
      i = end + 1;
    } else if (c == '@' && i + 2 < text.size() && (text[i + 1] == '\'' || text[i + 1] == '"') &&
               text[i + 2] == '\n') {
      // A here-string: its end is the quote and @ at the start of a line.
      const std::string close = "\n"s + text[i + 1] + "@";
      const auto end = text.find(close, i + 2);
      if (end == std::string_view::npos) return "unterminated here-string" + at();
      line += static_cast<std::size_t>(std::count(text.begin() + i, text.begin() + end + 1, '\n'));
      i = end + 2;
    } else if (c == '\'') {
      // '...' with '' for a quote inside.
      for (++i;; ++i) {
        if (i >= text.size()) return "unterminated '...' string" + at();
        if (text[i] == '\n') ++line;
        if (text[i] == '\'') {
          if (i + 1 < text.size() && text[i + 1] == '\'') {
            ++i;
          } else {
            break;
          }
        }
      }
    } else if (c == '"') {
      // "..." with `x escapes, "" for a quote, and $( ... ) subexpressions (no strings inside them here).
      int depth = 0;
      for (++i;; ++i) {
        if (i >= text.size()) return "unterminated \"...\" string" + at();
        if (text[i] == '\n') ++line;
        if (text[i] == '`') {
          ++i;
        } else if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '(') {
          ++depth;
          ++i;
        } else if (depth > 0 && text[i] == '(') {
          ++depth;
        } else if (depth > 0 && text[i] == ')') {
          --depth;
        } else if (depth == 0 && text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            ++i;
          } else {
            break;
          }
        }
      }
    } else if (c == '{' || c == '(' || c == '[') {
      open += c;
    } else if (c == '}' || c == ')' || c == ']') {
      const char expected = c == '}' ? '{' : (c == ')' ? '(' : '[');
      if (open.empty() || open.back() != expected) return std::string("unbalanced '") + c + "'" + at();
      open.pop_back();
    }
  }
  if (!open.empty()) return std::string("'") + open.back() + "' never closed";
  return {};
}

// --- launch plans and the text of the bootstrap (no interpreter needed)
// --------------------------------------------------------

TEST(powershell_plan, runs_pwsh_with_the_bootstrap_file_the_script_and_the_arguments_as_they_are) {
  const std::vector<std::string> args = {"-Parameter0", "Para meter0", "", "$(whoami) `x` 'q' \"dq\"", "--"};
  const auto plan = bs::plan_launch(bs::language::powershell, "/abs/Deploy.ps1", args, {});
  std::vector<std::string> expected = {
      "pwsh",           "-NoLogo", "-NoProfile", "-NonInteractive", "-File", "{dir}/cuttle-bootstrap.ps1",
      "/abs/Deploy.ps1"};
  expected.insert(expected.end(), args.begin(), args.end());
  EXPECT_EQ(plan.argv, expected);
  ASSERT_EQ(plan.files.size(), 1u);
  EXPECT_EQ(plan.files[0].name, "cuttle-bootstrap.ps1");
  EXPECT_EQ(plan.files[0].content, bs::preamble(bs::language::powershell));
  EXPECT_TRUE(bs::is_supported(bs::language::powershell));
}

TEST(powershell_plan, powershell_modules_become_psm1_files_with_filtered_names) {
  variables vars;
  vars.set("Octopus.Script.Module[My Module-1]", "function Say-Hi { 'hi' }\r\n");  // no language: PowerShell
  vars.set("Octopus.Script.Module[Tools]", "function Get-Tool { 'tool' }\n");
  vars.set("Octopus.Script.Module.Language[Tools]", "PowerShell");
  vars.set("Octopus.Script.Module[MyModule1]", "function Duplicate { }\n");  // same file name: left out
  vars.set("Octopus.Script.Module[Shell]", "say() { :; }");
  vars.set("Octopus.Script.Module.Language[Shell]", "Bash");
  vars.set("Octopus.Script.Module[Py]", "X = 1\n");
  vars.set("Octopus.Script.Module.Language[Py]", "Python");
  const auto plan = bs::plan_launch(bs::language::powershell, "/abs/x.ps1", {}, vars);
  ASSERT_EQ(plan.files.size(), 3u);
  EXPECT_EQ(plan.files[0].name, "cuttle-bootstrap.ps1");
  EXPECT_EQ(plan.files[1].name, "MyModule1.psm1");
  EXPECT_EQ(plan.files[1].content, "function Say-Hi { 'hi' }\r\n");
  EXPECT_EQ(plan.files[2].name, "Tools.psm1");
  EXPECT_EQ(plan.files[2].content, "function Get-Tool { 'tool' }\n");
}

TEST(powershell_plan, no_value_reaches_a_file_or_the_command_line) {
  const std::string secret = "Sup3r-S3cret-c41e77";
  variables vars;
  vars.set("Password", secret, true);
  vars.set(secret, "a name can be secret too");
  vars.set("Octopus.Action.Name", secret);
  EXPECT_EQ(bs::preamble(bs::language::powershell).find(secret), std::string::npos);
  const auto plan = bs::plan_launch(bs::language::powershell, "/abs/script.ps1", {"arg"}, vars);
  for (const auto& f : plan.files) EXPECT_EQ(f.content.find(secret), std::string::npos) << f.name;
  for (const auto& a : plan.argv) EXPECT_EQ(a.find(secret), std::string::npos);
}

TEST(powershell_plan, bootstrap_is_ascii_code_with_balanced_nesting_and_the_calamari_names) {
  const auto text = bs::preamble(bs::language::powershell);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.rfind("# cuttle PowerShell bootstrap", 0), 0u);
  EXPECT_TRUE(std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == '\n' || (u >= 0x20 && u < 0x7F);
  })) << "the bootstrap must be ASCII with LF line ends (no BOM needed, no tab)";
  EXPECT_EQ(nesting_problem(text), "");
  // The checker itself finds what it is for.
  EXPECT_NE(nesting_problem("function f { if ($x) { 'a' }\n"), "");
  EXPECT_NE(nesting_problem("Write-Host 'it''s\n"), "");
  EXPECT_NE(nesting_problem("$a = @'\nno end\n"), "");
  EXPECT_NE(nesting_problem("Write-Host \"$(Get-Date\"\n"), "");
  EXPECT_EQ(nesting_problem("# { in a comment\n<# ( #>\n\"}`\"$($a[0])\"\n$b = @\"\n{\n\"@\n"), "");
  // No param() block: every argument must stay in $args.
  EXPECT_FALSE(contains(text, "\nparam(")) << "a param() block would take the script's arguments";
  for (const std::string name :
       {"Set-OctopusVariable", "New-OctopusArtifact", "Update-Progress", "Fail-Step", "Write-Verbose",
        "Write-Highlight", "Write-Wait", "Write-Warning", "Write-Debug", "Convert-ServiceMessageValue",
        "Convert-ToServiceMessageParameter", "Set-EnvironmentState", "Set-EnvironmentUrl",
        "Execute-WithRetry"}) {
    EXPECT_TRUE(contains(text, "\nfunction global:" + name + " {") ||
                contains(text, "\nfunction global:" + name + "("))
        << name;
  }
  // Script scope, as in Calamari, so that a failed import is reported "at Import-ScriptModule, ".
  EXPECT_TRUE(contains(text, "\nfunction Import-ScriptModule("));
  EXPECT_TRUE(contains(text, "CUTTLE_VARIABLES_FD"));
}

// --- the helpers, run by pwsh (calamari-spec 7.2)
// --------------------------------------------------------------

TEST(powershell_helpers, hello_and_the_exit_code_of_exit) {
  REQUIRE_PWSH();
  auto r = run_pwsh("Write-Host 'Hello!'\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Hello!\n");
  EXPECT_EQ(r.err, "");
  r = run_pwsh("Write-Host 'Hello!'\nExit 2\nWrite-Host 'not reached'\n");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.out, "Hello!\n");
}

TEST(powershell_helpers, octopus_parameters_are_case_insensitive_and_null_is_empty) {
  REQUIRE_PWSH();
  variables vars;
  vars.set("Name", "NameToEncrypt", true);
  vars.set("Nothing", std::nullopt);
  auto r = run_pwsh(
      "Write-Host \"Hello $($OctopusParameters['Name'])\"\n"
      "Write-Host \"Hello $($OctopusParameters['name'])\"\n"
      "Write-Host ($null -eq $OctopusParameters['Missing'])\n"
      "Write-Host \"[$($OctopusParameters['Nothing'])]\"\n"
      "Write-Host $OctopusParameters.GetType().Name $OctopusParameters.Count\n",
      vars);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Hello NameToEncrypt\nHello NameToEncrypt\nTrue\n[]\nDictionary`2 2\n");
}

TEST(powershell_helpers, automatic_locals_follow_calamari_and_never_clobber) {
  REQUIRE_PWSH();
  variables vars;
  vars.set("Variable1", "ABC");
  vars.set("Variable2", "DEF");
  vars.set("Variable3", "GHI");
  vars.set("Foo_Bar", "Hello");
  vars.set("Octopus.Action.Name", "run-script");
  vars.set("Host", "not the host");
  vars.set("PID", "not the pid");
  vars.set("OctopusParameters", "not the dictionary");
  vars.set("LASTEXITCODE", "7");
  vars.set("Names[with]brackets", "skipped");
  vars.set("A.B", "derived");
  vars.set("AB", "exact");
  vars.set("...", "no name left");
  vars.set("Ünicöde.Näme", "unicode");
  auto r = run_pwsh(
      "Write-Host \"V1= $Variable1\"\n"
      "Write-Host \"V2= $Variable2\"\n"
      "Write-Host \"V3= $Variable3\"\n"
      "Write-Host \"FooBar= $FooBar\"\n"
      "Write-Host \"Foo_Bar= $Foo_Bar\"\n"
      "Write-Host \"Action= $OctopusActionName\"\n"
      "Write-Host \"Host= $($Host.GetType().Name) $($PID -is [int])\"\n"
      "Write-Host \"Params= $($OctopusParameters.GetType().Name)\"\n"
      "Write-Host \"Brackets= $(Test-Path variable:Nameswithbrackets)\"\n"
      "Write-Host \"AB= $AB\"\n"
      "Write-Host \"Unicode= ${ÜnicödeNäme}\"\n",
      vars);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "V1= ABC\nV2= DEF\nV3= GHI\nFooBar= Hello\nFoo_Bar= Hello\nAction= run-script\n"
            "Host= InternalHost True\nParams= Dictionary`2\nBrackets= False\nAB= exact\nUnicode= unicode\n");
}

TEST(powershell_helpers, set_variable_matches_calamari_and_updates_the_dictionary) {
  REQUIRE_PWSH();
  auto r = run_pwsh(
      "Set-OctopusVariable -name 'TestA' -value 'World!'\n"
      "Set-OctopusVariable -name 'SecretSquirrel' -value 'X marks the spot' -sensitive\n"
      "Set-OctopusVariable 'Empty' ''\n"
      "$x = Set-OctopusVariable 'Assigned' 'v'\n"
      "Write-Host $OctopusParameters['TestA'] $OctopusParameters['secretsquirrel']\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "##octopus[setVariable name='VGVzdEE=' value='V29ybGQh']\n"
            "##octopus[setVariable name='U2VjcmV0U3F1aXJyZWw=' value='WCBtYXJrcyB0aGUgc3BvdA==' "
            "sensitive='VHJ1ZQ==']\n"
            "##octopus[setVariable name='RW1wdHk=' value='']\n"
            "##octopus[setVariable name='QXNzaWduZWQ=' value='dg==']\n"
            "World! X marks the spot\n");
}

TEST(powershell_helpers, artifacts_match_calamari_on_linux_and_from_the_pipeline) {
  REQUIRE_PWSH();
  auto r = run_pwsh(
      "New-OctopusArtifact '\\tmp\\calamari\\File.txt'\n"
      "Set-Content -Path present.log -Value '12345' -NoNewline\n"
      "New-OctopusArtifact -Path present.log -name 'Shown name.log'\n"
      "New-Item -ItemType Directory -Path piped | Out-Null\n"
      "Set-Content -Path piped/a.txt -Value '' -NoNewline\n"
      "Set-Content -Path piped/b.txt -Value '' -NoNewline\n"
      "Get-ChildItem -Path piped -Filter '*.txt' | Sort-Object Name | New-OctopusArtifact\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> artifacts;
  for (const auto& m : messages(r.out))
    if (m.rfind("##octopus[createArtifact ", 0) == 0) artifacts.push_back(m);
  ASSERT_EQ(artifacts.size(), 4u) << r.out;
  EXPECT_EQ(artifacts[0], "##octopus[createArtifact path='" + base64("/tmp/calamari/File.txt") + "' name='" +
                              base64("\\tmp\\calamari\\File.txt") + "' length='MA==']");
  EXPECT_TRUE(attribute(artifacts[1], "path").ends_with("/present.log")) << artifacts[1];
  EXPECT_EQ(attribute(artifacts[1], "path").front(), '/');
  EXPECT_EQ(attribute(artifacts[1], "name"), "Shown name.log");
  EXPECT_EQ(attribute(artifacts[1], "length"), "5");
  EXPECT_TRUE(attribute(artifacts[2], "path").ends_with("/piped/a.txt")) << artifacts[2];
  EXPECT_EQ(attribute(artifacts[2], "name"), "a.txt");
  EXPECT_EQ(attribute(artifacts[2], "length"), "0");
  EXPECT_EQ(attribute(artifacts[3], "name"), "b.txt");
  EXPECT_TRUE(contains(r.out,
                       "##octopus[stdout-verbose]\nThere is no file at '/tmp/calamari/File.txt' right now. "
                       "Writing the service message just in case"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "##octopus[stdout-verbose]\nArtifact Shown name.log will be collected from " +
                                  attribute(artifacts[1], "path") +
                                  " after this step completes\n##octopus[stdout-default]\n"))
      << r.out;
}

TEST(powershell_helpers, update_progress_matches_calamari_also_from_the_pipeline) {
  REQUIRE_PWSH();
  auto r = run_pwsh("Update-Progress 50 'Half Way'\n'Half Way' | Update-Progress 50\nUpdate-Progress 75\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "##octopus[progress percentage='NTA=' message='SGFsZiBXYXk=']\n"
            "##octopus[progress percentage='NTA=' message='SGFsZiBXYXk=']\n"
            "##octopus[progress percentage='NzU=' message='']\n");
}

TEST(powershell_helpers, log_levels_are_bracketed_verbose_is_always_shown_and_warnings_obey_preference) {
  REQUIRE_PWSH();
  auto r = run_pwsh(
      "Write-Host 'Hello!'\n"
      "Write-Output 'Hello output!'\n"
      "Write-Verbose 'Hello verbose! 100% {0}'\n"
      "Write-Highlight 'hi'\n"
      "Write-Wait 'w'\n"
      "Write-Warning 'Hello warning!'\n"
      "Write-Warning 'This warning should not appear in logs!' -WarningAction SilentlyContinue\n"
      "$WarningPreference = 'SilentlyContinue'\n"
      "Write-Warning 'Nor this one!'\n"
      "$WarningPreference = 'Continue'\n"
      "Write-Debug 'debug'\n"
      "'a', 'b' | Write-Verbose\n"
      "Write-Verbose \"`e[31mred`e[0m\"\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Hello!\nHello output!\n"
            "##octopus[stdout-verbose]\nHello verbose! 100% {0}\n##octopus[stdout-default]\n"
            "##octopus[stdout-highlight]\nhi\n##octopus[stdout-default]\n"
            "##octopus[stdout-wait]\nw\n##octopus[stdout-default]\n"
            "##octopus[stdout-warning]\nHello warning!\n##octopus[stdout-default]\n"
            "##octopus[stdout-verbose]\ndebug\n##octopus[stdout-default]\n"
            "##octopus[stdout-verbose]\na\nb\n##octopus[stdout-default]\n"
            "##octopus[stdout-verbose]\n\x1b[31mred\x1b[0m\n##octopus[stdout-default]\n");
}

TEST(powershell_helpers, environment_state_and_service_message_values_match_calamari) {
  REQUIRE_PWSH();
  auto r = run_pwsh(
      "Set-EnvironmentState -Key 'MyKey' -Value 'MyValue'\n"
      "Set-EnvironmentState -Key 'SecretKey' -Value 'Secret Value' -Sensitive\n"
      "Set-EnvironmentUrl -Key 'MyEnvironment' -Url 'https://my-environment.example.com'\n"
      "Write-Host (Convert-ServiceMessageValue 'True') (Convert-ToServiceMessageParameter -name 'n' -value "
      "'50')\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "##octopus[set-environmentstate key='TXlLZXk=' value='TXlWYWx1ZQ==' type='U3RhdGU=']\n"
            "##octopus[set-environmentstate key='U2VjcmV0S2V5' value='U2VjcmV0IFZhbHVl' sensitive='VHJ1ZQ==' "
            "type='U3RhdGU=']\n"
            "##octopus[set-environmentstate key='TXlFbnZpcm9ubWVudA==' "
            "value='aHR0cHM6Ly9teS1lbnZpcm9ubWVudC5leGFtcGxlLmNvbQ==' type='VXJs']\n"
            "VHJ1ZQ== n='NTA='\n");
}

TEST(powershell_helpers, fail_step_exits_255_after_finally_blocks_with_its_message) {
  REQUIRE_PWSH();
  auto r = run_pwsh("Fail-Step 'Custom failure message'\nWrite-Host 'not reached'\n");
  EXPECT_EQ(r.exit_code, bs::fail_step_exit_code) << r.err;
  EXPECT_EQ(r.out, "##octopus[resultMessage message='Q3VzdG9tIGZhaWx1cmUgbWVzc2FnZQ==']\n");
  EXPECT_EQ(r.err, "");
  r = run_pwsh("try { Fail-Step } finally { Write-Host 'cleanup' }\nWrite-Host 'not reached'\n");
  EXPECT_EQ(r.exit_code, 255) << r.err;
  EXPECT_EQ(r.out, "cleanup\n");
}

TEST(powershell_helpers, execute_with_retry_retries_then_throws_the_last_failure) {
  REQUIRE_PWSH();
  auto r = run_pwsh(
      "$script:n = 0\n"
      "Execute-WithRetry { $script:n++; if ($script:n -lt 3) { throw \"fail $script:n\" }; Write-Host 'ok' } "
      "3 0\n"
      "Execute-WithRetry { throw 'always' } 2 0\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out,
            "Attempt 1 of 3 failed: fail 1\nWaiting for 0 seconds before retrying...\nRetrying...\n"
            "Attempt 2 of 3 failed: fail 2\nWaiting for 0 seconds before retrying...\nRetrying...\nok\n"
            "Attempt 1 of 2 failed: always\nWaiting for 0 seconds before retrying...\nRetrying...\n");
  EXPECT_TRUE(contains(r.err, "always")) << r.err;
}

TEST(powershell_helpers, arguments_bind_to_param_blocks_and_are_never_parsed_as_code) {
  REQUIRE_PWSH();
  // Parameters.ps1 of Calamari, called with named parameters.
  auto r = run_pwsh(
      "param([string]$Parameter0, [string]$Parameter1)\nWrite-Host \"Parameters $Parameter0$Parameter1\"\n",
      {}, {"-Parameter0", "Para meter0", "-Parameter1:Para meter1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Parameters Para meter0Para meter1\n");
  // Positional values reach param() and $args as the strings they were.
  const std::vector<std::string> args = {"Para meter0", "it's \"q\"", "", "$(Write-Host injected)",
                                         "`t;x",        "漢字 😀"};
  r = run_pwsh(
      "param([string]$First)\nWrite-Host \"[$First]\"\nforeach ($a in $args) { Write-Host \"[$a]\" }\n"
      "Write-Host $args.Count\n",
      {}, args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string expected = "[" + args[0] + "]\n";
  for (std::size_t i = 1; i < args.size(); ++i) expected += "[" + args[i] + "]\n";
  expected += std::to_string(args.size() - 1) + "\n";
  EXPECT_EQ(r.out, expected);
  r = run_pwsh("Write-Host $args.Count\n");
  EXPECT_EQ(r.out, "0\n");
}

TEST(powershell_helpers, dot_sourcing_and_the_scripts_own_path_work_in_awkward_directories) {
  REQUIRE_PWSH();
  cuttle::test::temp_dir dir;
  const auto awkward = dir.path() / "Path With ' and $ and spaces";
  std::filesystem::create_directories(awkward);
  dir.write("Path With ' and $ and spaces/MyFunctions.ps1", "function Say-Hello { Write-Host 'Hello!' }\n");
  const auto script = dir.write("Path With ' and $ and spaces/CanDotSource.ps1",
                                ". \"$PSScriptRoot/MyFunctions.ps1\"\nSay-Hello\n"
                                "Write-Host ($MyInvocation.MyCommand.Path -eq (Join-Path $PSScriptRoot "
                                "'CanDotSource.ps1'))\nWrite-Host (Split-Path -Leaf $PSCommandPath)\n");
  auto options = slow_options();
  options.cwd = "/";
  const auto r = cuttle::test::run_plan(bs::plan_launch(bs::language::powershell, script, {}, {}),
                                        "CUTTLE1\0"s, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Hello!\nTrue\nCanDotSource.ps1\n");
}

TEST(powershell_helpers, errors_exit_1_with_the_error_on_stderr) {
  REQUIRE_PWSH();
  auto r = run_pwsh("Write-Host 'Hello!'\nWrite-Error 'Hello-Error!'\nWrite-Host 'not reached'\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "Hello!\n");
  EXPECT_TRUE(contains(r.err, "Hello-Error!")) << r.err;
  r = run_pwsh("Write-Host 'never'\nif ($x -eq {\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "ParserError:")) << r.err;
  EXPECT_TRUE(contains(r.err, "at <ScriptBlock>, ")) << r.err;
  r = run_pwsh("throw 'boom'\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "boom")) << r.err;
}

TEST(powershell_helpers, exit_code_is_the_last_native_commands_unless_the_script_exits) {
  REQUIRE_PWSH();
  EXPECT_EQ(run_pwsh("Write-Host 'a'\n& sh -c 'exit 4'\n").exit_code, 4);
  EXPECT_EQ(run_pwsh("& sh -c 'exit 4'\nexit 0\n").exit_code, 0);
  EXPECT_EQ(run_pwsh("& sh -c 'exit 0'\n").exit_code, 0);
  EXPECT_EQ(run_pwsh("Write-Host 'no native command'\n").exit_code, 0);
}

TEST(powershell_helpers, script_modules_are_imported_and_see_the_helpers) {
  REQUIRE_PWSH();
  variables vars;
  vars.set("Name", "Paul");
  vars.set("Octopus.Script.Module[Foo]",
           "function SayHello { Write-Host 'Hello from module!' }\n"
           "function Use-Helpers { Set-OctopusVariable 'FromModule' $OctopusParameters['Name'] }\n");
  vars.set("Octopus.Script.Module[Other Module]", "function Get-Other { 'other' }\n");
  vars.set("Octopus.Script.Module.Language[Other Module]", "PowerShell");
  auto r = run_pwsh("SayHello\nUse-Helpers\nWrite-Host (Get-Other)\n", vars);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Hello from module!\n##octopus[setVariable name='RnJvbU1vZHVsZQ==' value='UGF1bA==']\nother\n");
  variables broken;
  broken.set("Octopus.Script.Module[My Broken-Module]", "function Broken {\n");
  r = run_pwsh("Write-Host 'not reached'\n", broken);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "Failed to import Script Module 'My Broken-Module' from '")) << r.err;
  EXPECT_TRUE(contains(r.err, "/MyBrokenModule.psm1'")) << r.err;
  EXPECT_TRUE(contains(r.err, "ParserError:")) << r.err;
  EXPECT_TRUE(contains(r.err, "at Import-ScriptModule, ")) << r.err;
}

// --- the variables channel
// -----------------------------------------------------------------------------------

TEST(powershell_channel, descriptor_is_closed_and_variable_removed_before_the_script) {
  REQUIRE_PWSH();
  const std::string secret = "Sup3r-S3cret-92b7d4";
  variables vars;
  vars.set("Password", secret, true);
  auto options = slow_options();
  options.env = {"HALF1=" + secret.substr(0, 8), "HALF2=" + secret.substr(8)};
  auto r = run_pwsh(
      "$expected = $env:HALF1 + $env:HALF2\n"
      "Write-Host $(if ($OctopusParameters['Password'] -ceq $expected) { 'seen' } else { 'not seen' })\n"
      "Write-Host ('env:' + $(if ($null -eq $env:CUTTLE_VARIABLES_FD) { 'unset' } else { 'set' }))\n"
      "Write-Host ((& env) -join \"`n\").Contains('CUTTLE_VARIABLES_FD')\n"
      "$links = foreach ($f in [System.IO.Directory]::GetFiles('/proc/self/fd')) {\n"
      "    try { [System.IO.FileInfo]::new($f).LinkTarget } catch { }\n"
      "}\n"
      "Write-Host @($links | Where-Object { \"$_\".Contains('memfd:cuttle-variables') }).Count\n"
      "foreach ($f in 'cmdline', 'environ') {\n"
      "    Write-Host ([System.IO.File]::ReadAllText(\"/proc/self/$f\").Contains($expected))\n"
      "}\n",
      vars, {}, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "seen\nenv:unset\nFalse\n0\nFalse\nFalse\n");
}

TEST(powershell_channel, missing_channel_means_no_variables_and_a_bad_one_fails) {
  REQUIRE_PWSH();
  auto options = slow_options();
  options.with_channel = false;
  auto r = run_pwsh("Write-Host $OctopusParameters.Count\n", {}, {}, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0\n");
  // (A low unused number may already be a file the .NET runtime opened, which then fails as "not a cuttle
  // payload"; a descriptor the runner passes is open from the start, so it never is.)
  cuttle::test::expect_bad_channels_refused(bs::language::powershell, "s.ps1", "Write-Host 'ran'\n", 1000);
  cuttle::test::temp_dir dir;
  const auto text = dir.write("s.txt", "Write-Host 'ran'\n");
  r = cuttle::test::run_plan(bs::plan_launch(bs::language::powershell, text, {}, {}), "CUTTLE1\0"s,
                             slow_options());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "cuttle: PowerShell runs .ps1 scripts only: '" + text + "'\n");
}

// --- one property, batched: each run starts pwsh, so one run checks many names and values ----------------

std::string awkward_text() {
  return cuttle::test::awkward_text({"{0}", "@'", "'@", "<#", "#>", "${x}", "`"});
}

TEST(powershell_props, names_and_values_round_trip_in_batches) {
  REQUIRE_PWSH();
  auto params = rc::detail::configuration().testParams;
  params.maxSuccess = std::min(params.maxSuccess, 6);
  params.disableShrinking = true;  // a shrink step is a run: the failing batch is printed as it is
  rc::detail::TestMetadata metadata;
  metadata.id = "powershell_props/names_and_values_round_trip_in_batches";
  metadata.description = metadata.id;
  const auto result = rc::detail::checkTestable(
      [] {
        variables vars;
        for (int i = 0; i < 50; ++i) vars.set(awkward_text(), awkward_text());
        std::vector<std::string> names;
        for (const auto& e : vars.entries()) names.push_back(e.name);
        auto r = run_pwsh(
            "foreach ($n in $args) {\n"
            "    Set-OctopusVariable $n $OctopusParameters[$n]\n"
            "    Set-OctopusVariable -name $n -value $OctopusParameters[$n] -sensitive\n"
            "}\n",
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

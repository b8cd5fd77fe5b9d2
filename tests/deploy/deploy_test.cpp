// `cuttle deploy` end to end: packages built here (a directory, .tar.gz and .zip made with python3's tarfile
// and zipfile), deployed by the real `cuttle` binary with real bash and python3 hook scripts, after the
// fixtures of calamari-spec §7.8 (Acme.Web: PreDeploy/Deploy/PostDeploy/DeployFailed, substitution,
// transforms, custom directory, journal, parallel deployments).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "process.hpp"
#include "script_child.hpp"

#ifndef CUTTLE_EXE
#error "CUTTLE_EXE must name the cuttle executable"
#endif

namespace {

namespace fs = std::filesystem;
using cuttle::test::contains;
using cuttle::test::describe;
using cuttle::test::process_result;
using cuttle::test::read_text;
using cuttle::test::run_process;
using cuttle::test::temp_dir;

void put(const fs::path& file, std::string_view content) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

std::string json_file(const fs::path& path, const std::map<std::string, std::string>& vars) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : vars) j[k] = v;
  put(path, j.dump());
  return path.string();
}

/// The Acme.Web package of Calamari's fixtures, for Linux: bash hooks (with .ps1 twins that must not run).
std::map<std::string, std::string> acme_web() {
  return {
      {"PreDeploy.sh",
       "if [ \"$(get_octopusvariable ShouldFail)\" = yes ]; then echo 'PreDeploy says no' >&2; exit 3; fi\n"
       "echo \"$(get_octopusvariable PreDeployGreeting) from PreDeploy.sh\"\n"
       "set_octopusvariable FromPreDeploy 'set in PreDeploy'\n"},
      {"PreDeploy.ps1", "Write-Host 'Hello from PreDeploy.ps1'\n"},
      {"Deploy.sh",
       "echo \"Hello from Deploy.sh in $(pwd)\"\n"
       "echo \"Deploy sees: $(get_octopusvariable FromPreDeploy)\"\n"
       "echo \"web.config says: $(cat web.config)\"\n"},
      {"Deploy.ps1", "Write-Host 'Hello from Deploy.ps1'\n"},
      {"PostDeploy.sh",
       "echo \"Hello from PostDeploy.sh: $(get_octopusvariable Octopus.Action.Package.PackageId) "
       "$(get_octopusvariable Octopus.Action.Package.PackageVersion)\"\n"},
      {"DeployFailed.sh",
       "echo \"I have failed! DeployFailed.sh: $(get_octopusvariable OctopusLastErrorMessage)\"\n"},
      {"DeployFailed.csx", "Console.WriteLine(\"I have failed! DeployFailed.csx\");\n"},
      {"web.config",
       "<configuration><appSettings><add key=\"foo\" value=\"#{foo}\"/></appSettings></configuration>\n"},
      {"assets/README.txt", "foo is #{foo}\r\nline two\r\n"},
      {"assets/untouched.txt", "#{foo} stays: not a target\n"},
      {"bin/app.dll", std::string("MZ\0\x01binary", 9)},
  };
}

class deploy : public ::testing::Test {
 protected:
  fs::path root() const { return dir_.path() / "apps"; }

  /// Writes `files` into a directory named `name` and returns its path.
  fs::path make_dir(const std::string& name, const std::map<std::string, std::string>& files) const {
    const auto d = dir_.path() / "src" / name;
    for (const auto& [path, content] : files) put(d / path, content);
    return d;
  }

  /// Packs the directory into `<dir>/<file>` (.tar.gz or .zip by the name) with python3.
  std::string pack(const fs::path& from, const std::string& file) const {
    const auto out = (dir_.path() / file).string();
    const std::string script =
        "import os, sys, tarfile, zipfile\n"
        "src, out = sys.argv[1], sys.argv[2]\n"
        "files = sorted(os.path.relpath(os.path.join(d, f), src) for d, _, fs in os.walk(src) for f in fs)\n"
        "if out.endswith('.zip'):\n"
        "    with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:\n"
        "        for f in files: z.write(os.path.join(src, f), f)\n"
        "else:\n"
        "    with tarfile.open(out, 'w:gz') as t:\n"
        "        for f in files: t.add(os.path.join(src, f), f)\n";
    const auto r = run_process({"/usr/bin/env", "python3", "-c", script, from.string(), out});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    return out;
  }

  /// Runs `cuttle deploy` with its own TMPDIR (checked empty afterwards) and the test's install root.
  process_result run(const std::vector<std::string>& args) const {
    const auto tmp = dir_.path() / ("tmp" + std::to_string(runs_++));
    fs::create_directories(tmp);
    std::vector<std::string> argv = {"/usr/bin/env",   "TMPDIR=" + tmp.string(), CUTTLE_EXE,     "deploy",
                                     "--install-root", root().string(),          "--log-format", "plain"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv);
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(tmp)) left.push_back(e.path().string());
    EXPECT_EQ(left, std::vector<std::string>{}) << "cuttle left private files behind";
    return r;
  }

  std::string vars(const std::map<std::string, std::string>& v) const {
    return json_file(dir_.path() / ("vars" + std::to_string(counter_++) + ".json"), v);
  }

  temp_dir dir_;
  mutable int counter_ = 0;
  mutable std::atomic<int> runs_{0};
};

TEST_F(deploy, acme_web_tar_gz_runs_the_conventions_in_order) {
  const auto package = pack(make_dir("pkg", acme_web()), "Acme.Web.1.0.0.tar.gz");
  const auto out_vars = (dir_.path() / "out.json").string();
  const auto r =
      run({"--variables",
           vars({{"PreDeployGreeting", "Bonjour"},
                 {"foo", "bar"},
                 {"Octopus.Action.EnabledFeatures", "Octopus.Features.SubstituteInFiles"},
                 {"Octopus.Action.SubstituteInFiles.TargetFiles", "web.config\nassets/README.txt"}}),
           "--output-variables", out_vars, package});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const auto staging = root() / "Acme.Web" / "1.0.0";
  EXPECT_TRUE(contains(r.err, "Extracting package to: " + staging.string())) << r.err;
  EXPECT_TRUE(contains(r.err, "Extracted 11 files")) << r.err;
  EXPECT_TRUE(contains(r.out, "Bonjour from PreDeploy.sh")) << r.out;
  EXPECT_TRUE(contains(r.err,
                       "Found 2 Deploy scripts. Selected Deploy.sh based on OS preferential ordering: "
                       "Deploy.sh, Deploy.ps1"))
      << r.err;
  EXPECT_TRUE(contains(r.out, "Hello from Deploy.sh in " + staging.string())) << "hooks run in the package";
  EXPECT_TRUE(contains(r.out, "Deploy sees: set in PreDeploy")) << "output variables reach later hooks";
  EXPECT_TRUE(
      contains(r.out, "web.config says: <configuration><appSettings><add key=\"foo\" value=\"bar\"/>"))
      << "substitution ran before Deploy";
  EXPECT_TRUE(contains(r.out, "Hello from PostDeploy.sh: Acme.Web 1.0.0"))
      << "the package's id and version are variables" << r.out;
  EXPECT_FALSE(contains(r.out, "I have failed")) << r.out;
  EXPECT_FALSE(contains(r.out, ".ps1'")) << "the .ps1 twins never run on Linux when a .sh exists";
  // Order: PreDeploy, then Deploy, then PostDeploy.
  EXPECT_LT(r.out.find("from PreDeploy.sh"), r.out.find("Hello from Deploy.sh"));
  EXPECT_LT(r.out.find("Hello from Deploy.sh"), r.out.find("Hello from PostDeploy.sh"));
  // One line per convention, with its time.
  EXPECT_TRUE(contains(r.err, "[Substitute variables in files] 2 of 2 files changed (")) << r.err;

  EXPECT_EQ(read_text(staging / "assets/README.txt"), "foo is bar\r\nline two\r\n") << "CRLF kept";
  EXPECT_EQ(read_text(staging / "assets/untouched.txt"), "#{foo} stays: not a target\n");
  EXPECT_EQ(read_text(staging / "bin/app.dll"), std::string("MZ\0\x01binary", 9));
  for (const auto* gone : {"PreDeploy.sh", "PreDeploy.ps1", "Deploy.sh", "Deploy.ps1", "PostDeploy.sh",
                           "DeployFailed.sh", "DeployFailed.csx"})
    EXPECT_FALSE(fs::exists(staging / gone)) << gone << " should be deleted after a successful deployment";

  const auto outputs = nlohmann::json::parse(read_text(out_vars));
  EXPECT_EQ(outputs.value("Octopus.Action.Package.InstallationDirectoryPath", ""), staging.string());
  EXPECT_EQ(outputs.value("Package.ExtractedFileCount", ""), "11");
  EXPECT_EQ(outputs.value("FromPreDeploy", ""), "set in PreDeploy");
  const auto journal = nlohmann::json::parse(read_text(root() / "DeploymentJournal.json"));
  ASSERT_EQ(journal.size(), 1u);
  EXPECT_EQ(journal[0].value("packageId", ""), "Acme.Web");
  EXPECT_EQ(journal[0].value("wasSuccessful", false), true);
}

TEST_F(deploy, a_failing_predeploy_runs_deployfailed_and_keeps_the_scripts) {
  const auto package = pack(make_dir("pkg", acme_web()), "Acme.Web.1.0.0.zip");
  const auto r = run({"--set", "ShouldFail=yes", package});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "PreDeploy says no")) << describe(r);
  EXPECT_TRUE(contains(r.err, "Script 'PreDeploy.sh' returned non-zero exit code: 3. Deployment terminated."))
      << describe(r);
  EXPECT_TRUE(contains(r.err, "Running rollback conventions...")) << describe(r);
  EXPECT_TRUE(
      contains(r.out, "I have failed! DeployFailed.sh: Script 'PreDeploy.sh' returned non-zero exit code: 3"))
      << "DeployFailed sees OctopusLastErrorMessage" << describe(r);
  EXPECT_FALSE(contains(r.out, "DeployFailed.csx")) << "only the preferred DeployFailed script runs";
  EXPECT_FALSE(contains(r.out, "Hello from Deploy.sh"));
  const auto staging = root() / "Acme.Web" / "1.0.0";
  EXPECT_TRUE(fs::exists(staging / "PreDeploy.sh")) << "scripts remain after a failure";
  EXPECT_TRUE(fs::exists(staging / "DeployFailed.sh"));
  const auto journal = nlohmann::json::parse(read_text(root() / "DeploymentJournal.json"));
  ASSERT_EQ(journal.size(), 1u);
  EXPECT_EQ(journal[0].value("wasSuccessful", true), false);
}

TEST_F(deploy, a_second_deployment_of_a_version_gets_a_suffix_and_skip_if_installed_skips) {
  const auto package = pack(make_dir("pkg", acme_web()), "Acme.Web.1.0.0.tar.gz");
  ASSERT_EQ(run({package}).exit_code, 0);
  const auto again = run({package});
  ASSERT_EQ(again.exit_code, 0) << describe(again);
  EXPECT_TRUE(contains(again.err, "Extracting package to: " + (root() / "Acme.Web" / "1.0.0_1").string()))
      << again.err;
  const auto skipped = run({"--set", "Octopus.Action.Package.SkipIfAlreadyInstalled=True", package});
  ASSERT_EQ(skipped.exit_code, 0) << describe(skipped);
  EXPECT_TRUE(contains(skipped.err,
                       "The package has already been installed on this machine, so installation "
                       "will be skipped."))
      << skipped.err;
  EXPECT_FALSE(contains(skipped.err, "Extracting package")) << skipped.err;
  EXPECT_FALSE(fs::exists(root() / "Acme.Web" / "1.0.0_2"));
}

TEST_F(deploy, skip_remaining_conventions_from_a_hook_ends_the_deployment_successfully) {
  auto files = acme_web();
  files["PreDeploy.sh"] = "set_octopusvariable Octopus.Action.SkipRemainingConventions True\necho skipping\n";
  const auto r = run({make_dir("Acme.Package.2.0.0", files).string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "skipping"));
  EXPECT_FALSE(contains(r.out, "Hello from Deploy.sh")) << r.out;
  EXPECT_FALSE(contains(r.out, "Hello from PostDeploy.sh")) << r.out;
}

TEST_F(deploy, custom_installation_directory_is_purged_copied_and_becomes_the_working_directory) {
  const auto custom = dir_.path() / "custom";
  put(custom / "stale.txt", "old");
  put(custom / "logs/keep.log", "keep");
  const auto package = pack(make_dir("pkg", acme_web()), "Acme.Web.1.0.0.zip");
  const auto out_vars = (dir_.path() / "out.json").string();
  const auto r =
      run({"--variables",
           vars({{"Octopus.Action.Package.CustomInstallationDirectory", custom.string()},
                 {"Octopus.Action.Package.CustomInstallationDirectoryShouldBePurgedBeforeDeployment", "True"},
                 {"Octopus.Action.Package.CustomInstallationDirectoryPurgeExclusions", "logs"}}),
           "--output-variables", out_vars, package});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "Hello from Deploy.sh in " + custom.string())) << r.out;
  EXPECT_FALSE(fs::exists(custom / "stale.txt"));
  EXPECT_EQ(read_text(custom / "logs/keep.log"), "keep");
  EXPECT_TRUE(fs::exists(custom / "web.config"));
  EXPECT_TRUE(fs::exists(custom / "bin/app.dll"));
  const auto outputs = nlohmann::json::parse(read_text(out_vars));
  EXPECT_EQ(outputs.value("Octopus.Action.Package.InstallationDirectoryPath", ""), custom.string());
  EXPECT_EQ(outputs.value("Package.CopiedFileCount", ""), "9") << outputs.dump();
}

TEST_F(deploy, a_relative_or_unevaluated_custom_directory_fails) {
  const auto package = make_dir("Acme.Web.1.0.0", acme_web());
  const auto relative =
      run({"--set", "Octopus.Action.Package.CustomInstallationDirectory=rel/dir", package.string()});
  EXPECT_EQ(relative.exit_code, 1);
  EXPECT_TRUE(contains(relative.err, "is a relative path")) << describe(relative);
  EXPECT_TRUE(contains(relative.out, "I have failed! DeployFailed.sh")) << describe(relative);
  const auto unevaluated =
      run({"--set", "Octopus.Action.Package.CustomInstallationDirectory=/srv/#{Missing}", package.string()});
  EXPECT_EQ(unevaluated.exit_code, 1);
  EXPECT_TRUE(contains(unevaluated.err, "were not evaluated")) << describe(unevaluated);
}

TEST_F(deploy, configured_scripts_run_in_order_with_substituted_bodies) {
  auto files = acme_web();
  const auto r =
      run({"--variables",
           vars({{"Octopus.Action.EnabledFeatures", "Octopus.Features.CustomScripts"},
                 {"foo", "bar"},
                 {"Octopus.Action.CustomScripts.PreDeploy.sh", "echo \"configured PreDeploy #{foo}\""},
                 {"Octopus.Action.CustomScripts.Deploy.py", "print('configured Deploy in python')"}}),
           make_dir("Acme.Web.1.0.0", files).string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  // PreDeploy: configured before packaged; Deploy: packaged before configured.
  EXPECT_LT(r.out.find("configured PreDeploy bar"), r.out.find("from PreDeploy.sh")) << r.out;
  EXPECT_LT(r.out.find("Hello from Deploy.sh"), r.out.find("configured Deploy in python")) << r.out;
  const auto staging = root() / "Acme.Web" / "1.0.0";
  for (const auto& e : fs::directory_iterator(staging))
    EXPECT_FALSE(contains(e.path().filename().string(), "CustomScripts"))
        << "inline scripts never land in the app";
}

TEST_F(deploy, a_configured_powershell_script_runs_with_pwsh_and_fails_clearly_without_it) {
  const auto r =
      run({"--variables",
           vars({{"Octopus.Action.EnabledFeatures", "Octopus.Features.CustomScripts"},
                 {"Octopus.Action.CustomScripts.PostDeploy.ps1",
                  "Write-Host \"hi from $($OctopusParameters['Octopus.Action.Package.PackageId'])\""}}),
           make_dir("Acme.Web.1.0.0", acme_web()).string()});
  if (run_process({"/usr/bin/env", "sh", "-c", "command -v pwsh"}).exit_code == 0) {
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, "hi from Acme.Web")) << describe(r);
  } else {
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_TRUE(contains(r.err, "pwsh not found on PATH")) << describe(r);
  }
}

TEST_F(deploy, secrets_are_masked_in_hook_output_and_cuttles_own_lines) {
  auto files = acme_web();
  files["Deploy.sh"] = "echo \"the password is $(get_octopusvariable DbPassword)\"\n";
  const auto secrets = json_file(dir_.path() / "secrets.json", {{"DbPassword", "hunter2-secret"}});
  const auto r = run({"--sensitive-variables", secrets, make_dir("Acme.Web.1.0.0", files).string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "the password is ********")) << r.out;
  EXPECT_FALSE(contains(r.out + r.err, "hunter2-secret"));
}

TEST_F(deploy, a_hook_that_hangs_is_stopped_by_the_timeout_and_deployfailed_runs) {
  auto files = acme_web();
  files["Deploy.sh"] = "echo started; sleep 30\n";
  const auto r = run({"--timeout", "1", make_dir("Acme.Web.1.0.0", files).string()});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "returned non-zero exit code: 124")) << describe(r);
  EXPECT_TRUE(contains(r.out, "I have failed! DeployFailed.sh")) << describe(r);
}

TEST_F(deploy, python_hooks_run_with_the_same_api) {
  const auto r =
      run({"--set", "Name=Ada",
           make_dir("Acme.Py.1.0.0", {{"Deploy.py",
                                       "print('hello ' + get_octopusvariable('Name'))\n"
                                       "set_octopusvariable('Out', 'from python')\n"},
                                      {"PostDeploy.sh", "echo \"post: $(get_octopusvariable Out)\"\n"}})
               .string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "hello Ada")) << r.out;
  EXPECT_TRUE(contains(r.out, "post: from python")) << r.out;
}

TEST_F(deploy, csharp_and_fsharp_hooks_run_and_share_output_variables) {
  if (!cuttle::test::on_path("dotnet")) GTEST_SKIP() << "dotnet is not installed (not on PATH)";
  if (!fs::exists(cuttle::test::libexec_dir() + "/csharp-host/cuttle-csharp-host.dll"))
    GTEST_SKIP() << "the C# script host is not built (configure with the .NET SDK installed)";
  const auto r = run(
      {"--set", "Name=Ada",
       make_dir("Acme.Net.1.0.0", {{"PreDeploy.csx",
                                    "Console.WriteLine(\"csx says \" + OctopusParameters[\"Name\"]);\n"
                                    "SetVariable(\"FromCsx\", \"set in C#\");\n"},
                                   {"Deploy.fsx", "printfn \"fsx sees %s\" (findVariable \"FromCsx\")\n"}})
           .string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "csx says Ada")) << r.out;
  EXPECT_TRUE(contains(r.out, "fsx sees set in C#")) << r.out;
}

TEST_F(deploy, transforms_apply_release_then_environment_then_configuration_variables) {
  auto files = acme_web();
  files["web.config"] =
      "<?xml version=\"1.0\"?>\n<configuration>\n  <appSettings>\n    <add key=\"Banner\" value=\"dev\" />\n"
      "    <add key=\"Env\" value=\"none\" />\n  </appSettings>\n"
      "  <system.web><compilation debug=\"true\" /></system.web>\n</configuration>\n";
  files["web.Release.config"] =
      "<configuration xmlns:xdt=\"http://schemas.microsoft.com/XML-Document-Transform\">\n"
      "  <system.web><compilation xdt:Transform=\"RemoveAttributes(debug)\" "
      "/></system.web>\n</configuration>\n";
  files["web.Production.config"] =
      "<configuration xmlns:xdt=\"http://schemas.microsoft.com/XML-Document-Transform\">\n  <appSettings>\n"
      "    <add key=\"Env\" value=\"prod\" xdt:Transform=\"SetAttributes(value)\" xdt:Locator=\"Match(key)\" "
      "/>\n"
      "  </appSettings>\n</configuration>\n";
  files["sub/extra.config"] =
      "<configuration><appSettings><add key=\"banner\" value=\"x\"/></appSettings></configuration>";
  const auto r =
      run({"--variables",
           vars({{"Octopus.Action.EnabledFeatures",
                  "Octopus.Features.ConfigurationTransforms,Octopus.Features.ConfigurationVariables"},
                 {"Octopus.Action.Package.AutomaticallyUpdateAppSettingsAndConnectionStrings", "True"},
                 {"Octopus.Environment.Name", "Production"},
                 {"Banner", "Release #{Octopus.Environment.Name}"}}),
           make_dir("Acme.Web.1.0.0", files).string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const auto staging = root() / "Production" / "Acme.Web" / "1.0.0";
  EXPECT_EQ(
      read_text(staging / "web.config"),
      "<?xml version=\"1.0\"?>\n<configuration>\n  <appSettings>\n"
      "    <add key=\"Banner\" value=\"Release Production\" />\n    <add key=\"Env\" value=\"prod\" />\n"
      "  </appSettings>\n  <system.web><compilation /></system.web>\n</configuration>\n");
  EXPECT_EQ(read_text(staging / "sub/extra.config"),
            "<configuration><appSettings><add key=\"banner\" value=\"Release "
            "Production\"/></appSettings></configuration>")
      << "configuration variables visit every .config file, keys compared case-insensitively";
  EXPECT_TRUE(contains(read_text(staging / "web.Release.config"), "xdt:Transform"))
      << "transform files are left alone";
  EXPECT_TRUE(contains(r.err, "[Configuration transforms] 2 transforms applied")) << r.err;
  EXPECT_TRUE(contains(r.err, "[Configuration variables] 2 settings in 2 files")) << r.err;
}

TEST_F(deploy, explicit_transforms_with_wildcards_and_a_broken_transform_fails) {
  std::map<std::string, std::string> files{
      {"a.config", "<c><s v=\"1\"/></c>"},
      {"b.config", "<c><s v=\"1\"/></c>"},
      {"a.Staging.config",
       "<c xmlns:xdt=\"http://schemas.microsoft.com/XML-Document-Transform\"><s v=\"a\" "
       "xdt:Transform=\"SetAttributes\"/></c>"},
      {"b.Staging.config",
       "<c xmlns:xdt=\"http://schemas.microsoft.com/XML-Document-Transform\"><s v=\"b\" "
       "xdt:Transform=\"SetAttributes\"/></c>"},
      {"DeployFailed.sh", "echo \"rollback: $(get_octopusvariable OctopusLastErrorMessage)\"\n"}};
  const auto ok = run({"--variables",
                       vars({{"Octopus.Action.EnabledFeatures", "Octopus.Features.ConfigurationTransforms"},
                             {"Octopus.Action.Package.AdditionalXmlConfigurationTransforms",
                              "*.Staging.config => *.config"}}),
                       make_dir("Acme.X.1.0.0", files).string()});
  ASSERT_EQ(ok.exit_code, 0) << describe(ok);
  EXPECT_EQ(read_text(root() / "Acme.X" / "1.0.0" / "a.config"), "<c><s v=\"a\"/></c>");
  EXPECT_EQ(read_text(root() / "Acme.X" / "1.0.0" / "b.config"), "<c><s v=\"b\"/></c>");

  files["a.Staging.config"] =
      "<c xmlns:xdt=\"http://schemas.microsoft.com/XML-Document-Transform\"><s "
      "xdt:Transform=\"Frobnicate\"/></c>";
  const auto bad = run({"--variables",
                        vars({{"Octopus.Action.EnabledFeatures", "Octopus.Features.ConfigurationTransforms"},
                              {"Octopus.Action.Package.AdditionalXmlConfigurationTransforms",
                               "a.Staging.config => a.config"}}),
                        make_dir("Acme.Y.1.0.0", files).string()});
  EXPECT_EQ(bad.exit_code, 1) << describe(bad);
  EXPECT_TRUE(contains(bad.err, "Frobnicate")) << describe(bad);
  EXPECT_TRUE(contains(bad.out, "rollback: Could not transform")) << describe(bad);
}

TEST_F(deploy, structured_variables_replace_each_format_and_keep_the_rest) {
  std::map<std::string, std::string> files{
      {"appsettings.json",
       "{\n  // comment kept\n  \"Db\": { \"Port\": 5432, \"Host\": \"localhost\" }\n}\n"},
      {"config/app.yaml", "# yaml comment\ndb:\n  port: 5432   # inline\n  host: 'localhost'\n"},
      {"config/app.properties", "# props\ndb.port=5432\ndb.host = localhost\n"},
      {"config/app.xml", "<config>\n  <db port=\"5432\">localhost</db>\n</config>\n"},
      {"config/plain.conf", "db:\n  port: 1\n"}};
  const auto r =
      run({"--variables",
           vars({{"Octopus.Action.EnabledFeatures", "Octopus.Features.JsonConfigurationVariables"},
                 {"Octopus.Action.Package.JsonConfigurationVariablesTargets", "appsettings.json\nconfig/*"},
                 {"Db:Port", "6432"},
                 {"db:host", "db.internal"},
                 {"db.port", "7432"},
                 {"/config/db/@port", "8432"},
                 {"/config/db", "xml.internal"},
                 {"db:port", "9432"}}),
           make_dir("Acme.Cfg.1.0.0", files).string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const auto dir = root() / "Acme.Cfg" / "1.0.0";
  EXPECT_EQ(read_text(dir / "appsettings.json"),
            "{\n  // comment kept\n  \"Db\": { \"Port\": 9432, \"Host\": \"db.internal\" }\n}\n")
      << "names compare case-insensitively; the later of Db:Port/db:port wins";
  EXPECT_EQ(read_text(dir / "config/app.yaml"),
            "# yaml comment\ndb:\n  port: 9432   # inline\n  host: 'db.internal'\n");
  EXPECT_EQ(read_text(dir / "config/app.properties"), "# props\ndb.port=7432\ndb.host = localhost\n");
  EXPECT_EQ(read_text(dir / "config/app.xml"),
            "<config>\n  <db port=\"8432\">xml.internal</db>\n</config>\n");
  EXPECT_EQ(read_text(dir / "config/plain.conf"), "db:\n  port: 9432\n")
      << "unknown extension: JSON, XML, then YAML";
}

TEST_F(deploy, a_structured_file_that_does_not_parse_fails_the_deployment) {
  const auto r =
      run({"--variables",
           vars({{"Octopus.Action.EnabledFeatures", "Octopus.Features.JsonConfigurationVariables"},
                 {"Octopus.Action.Package.JsonConfigurationVariablesTargets", "missing/*.json\n*.yaml"}}),
           make_dir("Acme.Bad.1.0.0",
                    {{"bad.yaml", "a: [1, 2\nb: c\n"}, {"DeployFailed.sh", "echo rollback ran\n"}})
               .string()});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "No files were found that match the replace target pattern 'missing/*.json'"))
      << r.err;
  EXPECT_TRUE(contains(r.err, "Structured variable replacement failed on file")) << r.err;
  EXPECT_TRUE(contains(r.err, "bad.yaml. The file could not be parsed as YAML: line ")) << r.err;
  EXPECT_TRUE(contains(r.out, "rollback ran")) << r.out;
}

TEST_F(deploy, refused_path_escape_writes_nothing_outside) {
  const auto evil = (dir_.path() / "Evil.Pkg.1.0.0.tar.gz").string();
  const auto made = run_process(
      {"/usr/bin/env", "python3", "-c",
       "import io, sys, tarfile\n"
       "with tarfile.open(sys.argv[1], 'w:gz') as t:\n"
       "    for name in ['ok.txt', '../../escaped.txt']:\n"
       "        data = b'x'\n"
       "        info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))\n",
       evil});
  ASSERT_EQ(made.exit_code, 0) << describe(made);
  const auto r = run({evil});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "../../escaped.txt")) << describe(r);
  EXPECT_FALSE(fs::exists(root() / "escaped.txt"));
  EXPECT_FALSE(fs::exists(root() / "Evil.Pkg" / "escaped.txt"));
  EXPECT_FALSE(fs::exists(dir_.path() / "escaped.txt"));
  EXPECT_FALSE(fs::exists(root() / "Evil.Pkg" / "1.0.0")) << "a failed extraction leaves no directory";
}

TEST_F(deploy, a_corrupt_archive_fails_cleanly_and_a_nameless_package_is_refused) {
  put(dir_.path() / "Broken.1.0.0.zip", "PK\x03\x04 this is not really a zip file");
  const auto broken = run({(dir_.path() / "Broken.1.0.0.zip").string()});
  EXPECT_EQ(broken.exit_code, 1) << describe(broken);
  EXPECT_TRUE(contains(broken.err, "Broken.1.0.0.zip")) << describe(broken);
  put(dir_.path() / "noversion.zip", "x");
  const auto nameless = run({(dir_.path() / "noversion.zip").string()});
  EXPECT_EQ(nameless.exit_code, 2) << describe(nameless);
  EXPECT_TRUE(contains(nameless.err, "Octopus.Action.Package.PackageId")) << describe(nameless);
  const auto missing = run({(dir_.path() / "Missing.1.0.0.zip").string()});
  EXPECT_EQ(missing.exit_code, 2) << describe(missing);
}

TEST_F(deploy, parallel_deployments_get_distinct_directories) {
  const auto package = pack(make_dir("pkg", acme_web()), "Acme.Web.1.0.0.tar.gz");
  std::vector<std::future<process_result>> runs;
  for (int k = 0; k < 4; ++k) runs.push_back(std::async(std::launch::async, [&] { return run({package}); }));
  for (auto& f : runs) EXPECT_EQ(f.get().exit_code, 0);
  for (const auto* d : {"1.0.0", "1.0.0_1", "1.0.0_2", "1.0.0_3"})
    EXPECT_TRUE(fs::exists(root() / "Acme.Web" / d / "web.config")) << d;
  const auto journal = nlohmann::json::parse(read_text(root() / "DeploymentJournal.json"));
  EXPECT_EQ(journal.size(), 4u) << "no journal entry lost";
}

TEST_F(deploy, environment_and_tenant_name_the_staging_directory) {
  const auto r =
      run({"--set", "Octopus.Environment.Name=Production", "--set",
           "Octopus.Deployment.Tenant.Name=Acme/Corp", make_dir("Acme.Web.1.0.0", acme_web()).string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(fs::exists(root() / "Acme_Corp" / "Production" / "Acme.Web" / "1.0.0" / "web.config")) << r.out;
}

TEST_F(deploy, a_substitution_pattern_that_matches_nothing_warns) {
  const auto r = run({"--variables",
                      vars({{"Octopus.Action.EnabledFeatures", "Octopus.Features.SubstituteInFiles"},
                            {"Octopus.Action.SubstituteInFiles.TargetFiles", "nothing/*.txt"}}),
                      make_dir("Acme.Web.1.0.0", acme_web()).string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(
      contains(r.err, "No files were found that match the substitution target pattern 'nothing/*.txt'"))
      << describe(r);
}

TEST_F(deploy, an_install_directory_that_cannot_be_written_is_a_clear_error) {
  put(dir_.path() / "not-a-dir", "a file");
  const auto package = make_dir("Acme.Web.1.0.0", acme_web());
  const auto root_blocked = run_process({CUTTLE_EXE, "deploy", "--install-root",
                                         (dir_.path() / "not-a-dir" / "apps").string(), package.string()});
  EXPECT_EQ(root_blocked.exit_code, 2) << describe(root_blocked);
  EXPECT_TRUE(contains(root_blocked.err, "cannot create the install root")) << describe(root_blocked);
  EXPECT_TRUE(contains(root_blocked.err, "Not a directory")) << describe(root_blocked);

  const auto custom_blocked = run(
      {"--set",
       "Octopus.Action.Package.CustomInstallationDirectory=" + (dir_.path() / "not-a-dir" / "live").string(),
       package.string()});
  EXPECT_EQ(custom_blocked.exit_code, 1) << describe(custom_blocked);
  EXPECT_TRUE(contains(custom_blocked.err, "cannot create the custom install directory"))
      << describe(custom_blocked);
  EXPECT_TRUE(contains(custom_blocked.out, "I have failed! DeployFailed.sh")) << describe(custom_blocked);
  EXPECT_EQ(read_text(dir_.path() / "not-a-dir"), "a file")
      << "nothing outside the install directory changes";
}

TEST_F(deploy, usage_errors_exit_2) {
  const auto r = run_process({CUTTLE_EXE, "deploy"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "deploy needs the package")) << describe(r);
  const auto help = run_process({CUTTLE_EXE, "deploy", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(contains(help.out, "--install-root DIR")) << help.out;
}

}  // namespace

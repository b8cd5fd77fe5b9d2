// Bootstrappers: languages, the variables channel, launch plans, and each preamble run by its real
// interpreter.
#include "cuttle/bootstrappers/bootstrap.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "process.hpp"
#include "script_child.hpp"

namespace {

namespace bs = cuttle::bootstrappers;
using cuttle::engine::variables;
using namespace std::string_literals;

TEST(languages, from_path_uses_the_extension_case_insensitively) {
  EXPECT_EQ(bs::language_from_path("/a/deploy.sh"), bs::language::bash);
  EXPECT_EQ(bs::language_from_path("Deploy.PY"), bs::language::python);
  EXPECT_EQ(bs::language_from_path("x.csx"), bs::language::csharp);
  EXPECT_EQ(bs::language_from_path("x.fsx"), bs::language::fsharp);
  EXPECT_EQ(bs::language_from_path("x.Ps1"), bs::language::powershell);
  EXPECT_EQ(bs::language_from_path("deploy"), std::nullopt);
  EXPECT_EQ(bs::language_from_path("dir.sh/deploy"), std::nullopt);
  EXPECT_EQ(bs::language_from_path(".sh"), std::nullopt);
  EXPECT_EQ(bs::language_from_path("x.shx"), std::nullopt);
}

TEST(languages, from_name_accepts_names_and_aliases) {
  EXPECT_EQ(bs::language_from_name("Bash"), bs::language::bash);
  EXPECT_EQ(bs::language_from_name("sh"), bs::language::bash);
  EXPECT_EQ(bs::language_from_name("PYTHON"), bs::language::python);
  EXPECT_EQ(bs::language_from_name("py"), bs::language::python);
  EXPECT_EQ(bs::language_from_name("CSharp"), bs::language::csharp);
  EXPECT_EQ(bs::language_from_name("csx"), bs::language::csharp);
  EXPECT_EQ(bs::language_from_name("cs"), bs::language::csharp);
  EXPECT_EQ(bs::language_from_name("FSharp"), bs::language::fsharp);
  EXPECT_EQ(bs::language_from_name("fs"), bs::language::fsharp);
  EXPECT_EQ(bs::language_from_name("PowerShell"), bs::language::powershell);
  EXPECT_EQ(bs::language_from_name("pwsh"), bs::language::powershell);
  EXPECT_EQ(bs::language_from_name("ps1"), bs::language::powershell);
  EXPECT_EQ(bs::language_from_name("ruby"), std::nullopt);
  EXPECT_EQ(bs::language_from_name(""), std::nullopt);
}

TEST(languages, names_and_support) {
  for (const auto l : {bs::language::bash, bs::language::python, bs::language::csharp, bs::language::fsharp,
                       bs::language::powershell}) {
    EXPECT_EQ(bs::language_from_name(bs::language_name(l)), l);
  }
  EXPECT_TRUE(bs::is_supported(bs::language::bash));
  EXPECT_TRUE(bs::is_supported(bs::language::python));
  EXPECT_TRUE(bs::is_supported(bs::language::csharp));
  EXPECT_TRUE(bs::is_supported(bs::language::fsharp));
  EXPECT_TRUE(bs::is_supported(bs::language::powershell));
}

TEST(channel, payload_is_magic_then_sorted_pairs) {
  variables vars;
  vars.set("b", "2");
  vars.set("B.x", "upper");
  vars.set("a", "1");
  vars.set("Null", std::nullopt);
  vars.set("\xc3\xa9", "e-acute");
  vars.set("Empty", "");
  const auto p = bs::encode_variables(vars);
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.data, "CUTTLE1\0B.x\0upper\0Empty\0\0Null\0\0a\0001\0b\0002\0\xc3\xa9\0e-acute\0"s);
}

TEST(channel, empty_dictionary_is_just_the_magic) { EXPECT_EQ(bs::encode_variables({}).data, "CUTTLE1\0"s); }

TEST(channel, values_are_evaluated) {
  variables vars;
  vars.set("Name", "World");
  vars.set("Greeting", "Hello #{Name}");
  vars.set("Escaped", "##{Name}");
  const auto p = bs::encode_variables(vars);
  EXPECT_EQ(p.data, "CUTTLE1\0Escaped\0#{Name}\0Greeting\0Hello World\0Name\0World\0"s);
}

TEST(channel, nul_is_refused_naming_the_variable_not_the_value) {
  variables vars;
  vars.set("Ok", "fine");
  vars.set("Bad", "sec\0ret"s, true);
  auto p = bs::encode_variables(vars);
  EXPECT_EQ(p.data, "");
  EXPECT_EQ(p.error,
            "the value of variable 'Bad' contains a NUL character, which cannot be passed to a script");
  variables names;
  names.set("Bad\0Name"s, "v");
  p = bs::encode_variables(names);
  EXPECT_EQ(p.data, "");
  EXPECT_EQ(p.error,
            "variable name 'Bad\\x00Name' contains a NUL character, which cannot be passed to a script");
}

TEST(plans, bash_plan_runs_the_bootstrap_with_the_script_and_arguments) {
  const auto plan = bs::plan_launch(bs::language::bash, "/abs/deploy.sh", {"a b", "c"}, {});
  // The bootstrap, then (in builds that have it) the channel loader, a shared object; without script
  // modules both are inherited descriptors, and the loader's path is the bootstrap's first argument.
  ASSERT_GE(plan.files.size(), 1u);
  ASSERT_LE(plan.files.size(), 2u);
  EXPECT_EQ(plan.files[0].name, "cuttle-bootstrap.sh");
  EXPECT_TRUE(plan.files[0].inherited);
  const std::string loader = plan.files.size() == 2 ? "{fd:cuttle-channel-loader.so}" : "";
  EXPECT_EQ(plan.argv, (std::vector<std::string>{"bash", "--noprofile", "--norc", "{fd:cuttle-bootstrap.sh}",
                                                 loader, "/abs/deploy.sh", "a b", "c"}));
  EXPECT_EQ(plan.verbatim_from, 5u);
  if (plan.files.size() == 2) {
    EXPECT_EQ(plan.files[1].name, "cuttle-channel-loader.so");
    EXPECT_TRUE(plan.files[1].inherited);
    EXPECT_TRUE(
        plan.files[1].content.starts_with("\x7f"
                                          "ELF"));
  }
}

TEST(plans, bash_plan_brings_the_loader_only_for_a_payload_of_16_kib_or_more) {
  variables small;
  small.set("Name", std::string(1000, 'x'));
  EXPECT_EQ(bs::plan_launch(bs::language::bash, "/abs/deploy.sh", {}, small).files.size(), 1u);
  EXPECT_EQ(bs::plan_launch(bs::language::bash, "/abs/deploy.sh", {}, small).argv[4], "");
  variables large = small;
  large.set("Big", std::string(16 << 10, 'y'));
  const auto plan = bs::plan_launch(bs::language::bash, "/abs/deploy.sh", {}, large);
  if (plan.files.size() == 1)
    GTEST_SKIP() << "this build has no Bash channel loader (no bash-builtins headers)";
  ASSERT_EQ(plan.files.size(), 2u);
  EXPECT_EQ(plan.files[1].name, "cuttle-channel-loader.so");
  EXPECT_EQ(plan.argv[4], "{fd:cuttle-channel-loader.so}");
}

TEST(plans, bash_plan_with_modules_writes_every_file_into_the_directory) {
  variables vars;
  vars.set("Octopus.Script.Module[Tools]", "tools() { :; }\n");
  vars.set("Octopus.Script.Module.Language[Tools]", "Bash");
  const auto plan = bs::plan_launch(bs::language::bash, "/abs/deploy.sh", {}, vars);
  for (const auto& f : plan.files) EXPECT_FALSE(f.inherited) << f.name;
  EXPECT_EQ(plan.argv[3], "{dir}/cuttle-bootstrap.sh");
  EXPECT_EQ(plan.argv[4],
            plan.files.back().name == "cuttle-channel-loader.so" ? "{dir}/cuttle-channel-loader.so" : "");
}

TEST(plans, python_plan_runs_the_bootstrap_with_the_script_and_arguments) {
  const auto plan = bs::plan_launch(bs::language::python, "/abs/deploy.py", {"a b"}, {});
  EXPECT_EQ(plan.argv, (std::vector<std::string>{"python3", "-u", "{dir}/cuttle-bootstrap.py",
                                                 "/abs/deploy.py", "a b"}));
  // A loader, the bootstrap itself, and (in builds that had python3) its bytecode.
  ASSERT_GE(plan.files.size(), 2u);
  ASSERT_LE(plan.files.size(), 3u);
  EXPECT_EQ(plan.files[0].name, "cuttle-bootstrap.py");
  EXPECT_NE(plan.files[0].content.find("cuttle-bootstrap-main.pyc"), std::string::npos);
  EXPECT_EQ(plan.files[1].name, "cuttle-bootstrap-main.py");
  EXPECT_EQ(plan.files[1].content, bs::preamble(bs::language::python));
  if (plan.files.size() == 3) {
    EXPECT_EQ(plan.files[2].name, "cuttle-bootstrap-main.pyc");
  }
}

TEST(plans, the_script_path_and_arguments_are_verbatim_in_every_language) {
  // Placeholders are replaced in the plan's own arguments only: a path or an argument may contain them.
  const std::vector<std::string> args = {"{dir}", "--", "{libexec}/x"};
  for (const auto l : {bs::language::bash, bs::language::python, bs::language::csharp, bs::language::fsharp,
                       bs::language::powershell}) {
    const std::string script = "/abs/{dir}/deploy";
    const auto plan = bs::plan_launch(l, script, args, {});
    ASSERT_LT(plan.verbatim_from, plan.argv.size()) << bs::language_name(l);
    EXPECT_EQ(plan.argv[plan.verbatim_from], script) << bs::language_name(l);
    EXPECT_EQ(std::vector<std::string>(plan.argv.end() - 3, plan.argv.end()), args) << bs::language_name(l);
    for (std::size_t k = 0; k < plan.verbatim_from; ++k)
      EXPECT_NE(plan.argv[k], script) << bs::language_name(l);
  }
}

TEST(plans, script_modules_of_the_language_become_files) {
  variables vars;
  vars.set("Octopus.Script.Module[My Module-1]", "echo one\r\n");
  vars.set("Octopus.Script.Module.Language[My Module-1]", "Bash");
  vars.set("Octopus.Script.Module[Py]", "X = 1\r\n");
  vars.set("Octopus.Script.Module.Language[Py]", "python");
  vars.set("Octopus.Script.Module[Ps]", "function F {}");  // no language: PowerShell
  vars.set("Octopus.Script.Module[MyModule1]", "echo duplicate stem\n");
  vars.set("Octopus.Script.Module.Language[MyModule1]", "Bash");
  vars.set("Octopus.Script.Module[!!!]", "echo no usable name\n");
  vars.set("Octopus.Script.Module.Language[!!!]", "Bash");
  auto bash = bs::plan_launch(bs::language::bash, "/nonexistent/x.sh", {}, vars);
  std::erase_if(bash.files, [](const auto& f) { return f.name == "cuttle-channel-loader.so"; });
  ASSERT_EQ(bash.files.size(), 2u);
  EXPECT_EQ(bash.files[1].name, "MyModule1.sh");
  EXPECT_EQ(bash.files[1].content, "echo one\n");
  auto python = bs::plan_launch(bs::language::python, "/nonexistent/x.py", {}, vars);
  std::erase_if(python.files, [](const auto& f) { return f.name.starts_with("cuttle-bootstrap"); });
  ASSERT_EQ(python.files.size(), 1u);
  EXPECT_EQ(python.files[0].name, "Py.py");
  EXPECT_EQ(python.files[0].content, "X = 1\r\n");
}

TEST(plans, bash_builds_octopus_parameters_only_when_the_script_mentions_it) {
  cuttle::test::temp_dir dir;
  const auto plain = dir.write("plain.sh", "get_octopusvariable A\n");
  const auto uses = dir.write("uses.sh", "echo \"${octopus_parameters[A]}\"\n");
  const auto on = "__cuttle_wants_parameters=1\n"s;
  EXPECT_EQ(bs::plan_launch(bs::language::bash, plain, {}, {}).files[0].content.find(on), std::string::npos);
  EXPECT_NE(bs::plan_launch(bs::language::bash, uses, {}, {}).files[0].content.find(on), std::string::npos);
  variables vars;
  vars.set("Octopus.Script.Module[M]", "for k in \"${!octopus_parameters[@]}\"; do :; done");
  vars.set("Octopus.Script.Module.Language[M]", "Bash");
  EXPECT_NE(bs::plan_launch(bs::language::bash, plain, {}, vars).files[0].content.find(on),
            std::string::npos);
}

TEST(plans, no_value_reaches_a_file_or_the_command_line) {
  const std::string secret = "Sup3r-S3cret-7c1f0e";
  variables vars;
  vars.set("Password", secret, true);
  vars.set(secret, "a name can be secret too");
  vars.set("Derived", "#{Password}");
  for (const auto l : {bs::language::bash, bs::language::python}) {
    EXPECT_FALSE(bs::preamble(l).empty());
    EXPECT_EQ(bs::preamble(l).find(secret), std::string::npos);
    const auto plan = bs::plan_launch(l, "/abs/script", {"arg"}, vars);
    for (const auto& f : plan.files) EXPECT_EQ(f.content.find(secret), std::string::npos) << f.name;
    for (const auto& a : plan.argv) EXPECT_EQ(a.find(secret), std::string::npos);
  }
  EXPECT_NE(bs::encode_variables(vars).data.find(secret), std::string::npos);
}

TEST(plans, preamble_opens_with_what_it_is) {
  EXPECT_EQ(bs::preamble(bs::language::bash).rfind("# cuttle bash bootstrap", 0), 0u);
  EXPECT_EQ(bs::preamble(bs::language::python).rfind("# cuttle python bootstrap", 0), 0u);
}

// The child sees its variables while it runs, and no value is in its command line or its environment.
TEST(end_to_end, values_are_not_in_the_child_command_line_or_environment) {
  const std::string secret = "Sup3r-S3cret-9d2e4a";
  variables vars;
  vars.set("Password", secret, true);
  // The probe gets the secret in two halves, so its own environment does not hold it either.
  cuttle::test::script_options options;
  options.env = {"HALF1=" + secret.substr(0, 8), "HALF2=" + secret.substr(8)};
  if (cuttle::test::on_path("bash")) {
    const auto r = cuttle::test::run_source(
        bs::language::bash,
        "expected=$HALF1$HALF2\n[ \"$(get_octopusvariable Password)\" = \"$expected\" ] && echo seen\n"
        "for f in cmdline environ; do grep -c -F -- \"$expected\" /proc/$$/$f || true; done\n",
        vars, {}, options);
    EXPECT_EQ(r.out, "seen\n0\n0\n") << r.err;
  }
  if (cuttle::test::on_path("python3")) {
    const auto r = cuttle::test::run_source(
        bs::language::python,
        "expected = (os.environ['HALF1'] + os.environ['HALF2'])\n"
        "print('seen' if get_octopusvariable('Password') == expected else 'not seen')\n"
        "for f in ('cmdline', 'environ'):\n"
        "    print(open('/proc/self/' + f, 'rb').read().count(expected.encode()))\n",
        vars, {}, options);
    EXPECT_EQ(r.out, "seen\n0\n0\n") << r.err;
  }
}

}  // namespace

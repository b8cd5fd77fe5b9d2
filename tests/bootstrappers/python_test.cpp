// The python preamble run by the real interpreter: every helper's exact output, arguments, modules, exit
// codes.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdio>
#include <optional>
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

#define REQUIRE_PYTHON() \
  if (!cuttle::test::on_path("python3")) GTEST_SKIP() << "python3 is not installed (not found on PATH)"

script_result run_python(std::string_view source, const variables& vars = {},
                         const std::vector<std::string>& args = {}) {
  return run_source(bs::language::python, source, vars, args);
}

std::vector<std::string> messages(const std::string& out) { return cuttle::test::service_messages(out); }
std::string attribute(const std::string& message, const std::string& attr) {
  return cuttle::test::message_attribute(message, attr);
}

TEST(python_helpers, hello_runs_as_main) {
  REQUIRE_PYTHON();
  auto r = run_python("print('Hello')\nif __name__ == '__main__':\n    print('__name__ is __main__')\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Hello\n__name__ is __main__\n");
  EXPECT_EQ(r.err, "");
}

TEST(python_helpers, print_variables_matches_calamari) {
  REQUIRE_PYTHON();
  variables vars;
  vars.set("Variable1", "ABC");
  vars.set("Variable2", "DEF");
  vars.set("Variable3", "GHI");
  vars.set("Foo_bar", "Hello");
  vars.set("Nothing", std::nullopt);
  auto r = run_python(
      "print('V1=' + octopusvariables['Variable1'])\nprint('V2=' + octopusvariables['Variable2'])\n"
      "print('V3=' + get_octopusvariable('Variable3'))\nprint('Foo_bar=' + octopusvariables['Foo_bar'])\n"
      "print(repr(get_octopusvariable('Missing')), repr(get_octopusvariable('variable1')), "
      "repr(octopusvariables['Nothing']))\n",
      vars);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "V1=ABC\nV2=DEF\nV3=GHI\nFoo_bar=Hello\n'' '' ''\n");
}

TEST(python_helpers, set_variable_matches_calamari_and_updates_the_dict) {
  REQUIRE_PYTHON();
  auto r = run_python(
      "set_octopusvariable('TestA', 'World!')\n"
      "set_octopusvariable('Password', 'correct horse battery staple', True)\n"
      "set_octopusvariable('Empty', '', sensitive=False)\n"
      "print(octopusvariables['TestA'], get_octopusvariable('Password'), repr(octopusvariables['Empty']))\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "##octopus[setVariable name='VGVzdEE=' value='V29ybGQh']\n"
            "##octopus[setVariable name='UGFzc3dvcmQ=' value='Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==' "
            "sensitive='VHJ1ZQ==']\n"
            "##octopus[setVariable name='RW1wdHk=' value='']\n"
            "World! correct horse battery staple ''\n");
}

TEST(python_helpers, create_artifact_matches_calamari_on_nix) {
  REQUIRE_PYTHON();
  auto r = run_python(
      "createartifact('/home/file.txt')\n"
      "with open('present.log', 'w') as f: f.write('12345')\n"
      "createartifact('present.log', fileName='Shown name.log')\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto m = messages(r.out);
  ASSERT_EQ(m.size(), 2u) << r.out;
  EXPECT_EQ(m[0], "##octopus[createArtifact path='L2hvbWUvZmlsZS50eHQ=' name='ZmlsZS50eHQ=' length='MA==']");
  EXPECT_TRUE(attribute(m[1], "path").ends_with("/present.log"));
  EXPECT_EQ(attribute(m[1], "path").front(), '/');
  EXPECT_EQ(attribute(m[1], "name"), "Shown name.log");
  EXPECT_EQ(attribute(m[1], "length"), "5");
}

TEST(python_helpers, update_progress_matches_calamari_and_message_is_optional) {
  REQUIRE_PYTHON();
  auto r =
      run_python("updateprogress(50, 'Half Way')\nupdateprogress(75)\nupdateprogress(10, message='m')\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "##octopus[progress percentage='NTA=' message='SGFsZiBXYXk=']\n"
            "##octopus[progress percentage='NzU=' message='']\n"
            "##octopus[progress percentage='MTA=' message='bQ==']\n");
}

TEST(python_helpers, log_levels_are_bracketed) {
  REQUIRE_PYTHON();
  auto r = run_python(
      "print('Hello!')\nprintverbose('Hello verbose!')\nprinthighlight('hi')\nprintwait('w')\n"
      "printwarning('Hello warning!')\n");
  EXPECT_EQ(r.out,
            "Hello!\n##octopus[stdout-verbose]\nHello verbose!\n##octopus[stdout-default]\n"
            "##octopus[stdout-highlight]\nhi\n##octopus[stdout-default]\n"
            "##octopus[stdout-wait]\nw\n##octopus[stdout-default]\n"
            "##octopus[stdout-warning]\nHello warning!\n##octopus[stdout-default]\n");
}

TEST(python_helpers, fail_step_exits_255_with_its_message) {
  REQUIRE_PYTHON();
  auto r = run_python("failstep('Custom failure message')\nprint('not reached')\n");
  EXPECT_EQ(r.exit_code, bs::fail_step_exit_code);
  EXPECT_EQ(r.out, "##octopus[resultMessage message='Q3VzdG9tIGZhaWx1cmUgbWVzc2FnZQ==']\n");
  r = run_python("try:\n    failstep()\nfinally:\n    print('cleanup')\n");
  EXPECT_EQ(r.exit_code, 255);
  EXPECT_EQ(r.out, "cleanup\n");
  EXPECT_EQ(r.err, "");
}

TEST(python_helpers, arguments_need_no_import_and_keep_spaces_and_quotes) {
  REQUIRE_PYTHON();
  auto r = run_python("print('Parameters', sys.argv[1], sys.argv[2])\n", {}, {"parameter1", "parameter2"});
  EXPECT_EQ(r.out, "Parameters parameter1 parameter2\n");
  r = run_python("import os\nprint(os.path.basename(sys.argv[0]), sys.argv[1:])\n", {},
                 {"Para meter0", "it's \"q\"", "", "$(x)"});
  EXPECT_EQ(r.out, "script.py ['Para meter0', 'it\\'s \"q\"', '', '$(x)']\n");
}

TEST(python_helpers, exit_codes_pass_through) {
  REQUIRE_PYTHON();
  EXPECT_EQ(run_python("import sys\nsys.exit(7)\n").exit_code, 7);
  auto r = run_python("x = 1\nraise ValueError('boom')\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.err.find("script.py\", line 2, in <module>") != std::string::npos) << r.err;
  EXPECT_TRUE(r.err.find("ValueError: boom") != std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("cuttle-bootstrap"), std::string::npos) << r.err;
  r = run_python("def f(:\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.err.find("SyntaxError") != std::string::npos) << r.err;
}

TEST(python_helpers, script_module_and_sibling_module_are_importable) {
  REQUIRE_PYTHON();
  variables vars;
  vars.set("Octopus.Script.Module[Greeter]", "def hello():\n    return 'Hello from module!'\n");
  vars.set("Octopus.Script.Module.Language[Greeter]", "Python");
  vars.set("Octopus.Script.Module[Shell]", "say() { :; }");
  vars.set("Octopus.Script.Module.Language[Shell]", "Bash");
  std::string dir = (std::filesystem::temp_directory_path() / "cuttle-sibling-XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  cuttle::test::detail::write_file(dir + "/sibling.py", "NAME = 'sibling'\n");
  cuttle::test::detail::write_file(dir + "/main.py",
                                   "import Greeter, sibling\nprint(Greeter.hello(), sibling.NAME)\n"
                                   "import importlib.util\nprint(importlib.util.find_spec('Shell'))\n");
  const auto plan = bs::plan_launch(bs::language::python, dir + "/main.py", {}, vars);
  cuttle::test::script_options options;
  options.cwd = "/";
  auto r = cuttle::test::run_plan(plan, bs::encode_variables(vars).data, options);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Hello from module! sibling\nNone\n");
}

TEST(python_helpers, invalid_utf8_bytes_round_trip) {
  REQUIRE_PYTHON();
  variables vars;
  vars.set("Bytes", "\xff\xfe ok \xc3");
  auto r = run_python("set_octopusvariable('Bytes', get_octopusvariable('Bytes'))\n", vars);
  EXPECT_EQ(r.out, "##octopus[setVariable name='Qnl0ZXM=' value='" + base64("\xff\xfe ok \xc3") + "']\n");
}

// The loader runs the bootstrap from the build's bytecode when the interpreter's magic number matches, and
// compiles the source otherwise: a foreign magic number, a damaged or a missing .pyc.
TEST(python_bootstrap, bytecode_is_used_when_its_magic_number_matches_and_the_source_otherwise) {
  REQUIRE_PYTHON();
  // Bytecode that is plainly not the bootstrap, with this interpreter's magic number.
  FILE* pipe = ::popen(
      "python3 -c \"import importlib.util, marshal, sys; sys.stdout.buffer.write(importlib.util.MAGIC_NUMBER "
      "+ "
      "marshal.dumps(compile('print(\\\"from bytecode\\\")', 'x', 'exec')))\"",
      "r");
  ASSERT_NE(pipe, nullptr);
  std::string marker;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) marker.append(buffer, n);
  ASSERT_EQ(::pclose(pipe), 0);
  ASSERT_GT(marker.size(), 4u);

  cuttle::test::temp_dir work;
  const auto script = work.write("script.py", "print(get_octopusvariable('Name'))\n");
  variables vars;
  vars.set("Name", "Paul");
  const auto payload = bs::encode_variables(vars);
  auto with_code = [&](std::optional<std::string> code) {
    auto plan = bs::plan_launch(bs::language::python, script, {}, vars);
    std::erase_if(plan.files, [](const auto& f) { return f.name == "cuttle-bootstrap-main.pyc"; });
    if (code) plan.files.push_back({"cuttle-bootstrap-main.pyc", *code});
    return cuttle::test::run_plan(plan, payload.data);
  };
  const auto built = bs::plan_launch(bs::language::python, script, {}, vars);
  if (built.files.size() == 3) {
    const auto r = cuttle::test::run_plan(built, payload.data);
    EXPECT_EQ(r.out, "Paul\n") << r.err;  // the build's own bytecode
  }
  EXPECT_EQ(with_code(marker).out, "from bytecode\n");
  std::string foreign = marker;
  foreign[0] = static_cast<char>(foreign[0] ^ 0x55);
  std::string damaged = marker.substr(0, 4) + "\xff\x00 not marshal data";
  for (const auto& code : {std::optional<std::string>(foreign), std::optional<std::string>(damaged),
                           std::optional<std::string>()}) {
    const auto r = with_code(code);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "Paul\n") << r.err;
    EXPECT_EQ(r.err, "");
  }
}

TEST(python_channel, descriptor_is_closed_and_variable_removed_before_the_script) {
  REQUIRE_PYTHON();
  variables vars;
  vars.set("Secret", "s3cr3t-value");
  auto r = run_python(
      "import os, subprocess\n"
      "print('env:' + os.environ.get('CUTTLE_VARIABLES_FD', 'unset'))\n"
      "print(subprocess.run(['env'], capture_output=True, text=True).stdout.count('CUTTLE_VARIABLES_FD'))\n"
      "links = [os.readlink('/proc/self/fd/' + f) for f in os.listdir('/proc/self/fd')\n"
      "         if os.path.islink('/proc/self/fd/' + f)]\n"
      "print(sum('memfd' in l for l in links), os.path.exists('/proc/self/fd/3'))\n"
      "print(sorted(g for g in globals() if not g.startswith('__')))\n",
      vars);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "env:unset\n0\n0 False\n"
            "['createartifact', 'failstep', 'get_octopusvariable', 'links', 'octopusvariables', 'os', "
            "'printhighlight', "
            "'printverbose', 'printwait', 'printwarning', 'set_octopusvariable', 'subprocess', 'sys', "
            "'updateprogress']\n");
}

TEST(python_channel, missing_channel_means_no_variables_and_a_bad_one_fails) {
  REQUIRE_PYTHON();
  cuttle::test::script_options options;
  options.with_channel = false;
  auto r = run_source(bs::language::python, "print(octopusvariables)\n", {}, {}, options);
  EXPECT_EQ(r.out, "{}\n");
  options.env = {"CUTTLE_VARIABLES_FD=99"};
  r = run_source(bs::language::python, "print('ran')\n", {}, {}, options);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "cuttle: cannot read the variables channel (descriptor 99)\n");
}

std::string awkward_text() { return cuttle::test::awkward_text({"{0}", "%s"}); }

RC_GTEST_PROP(python_props, names_and_values_round_trip, ()) {
  if (!cuttle::test::on_path("python3")) return;
  const auto name = awkward_text();
  const auto value = awkward_text();
  variables vars;
  for (int i = 0, n = *rc::gen::inRange(0, 6); i < n; ++i) vars.set(awkward_text(), awkward_text());
  vars.set(name, value);
  RC_PRE(vars.find(name) != nullptr && vars.find(name)->name == name);
  const auto expected = vars.get(name).value_or("");
  auto r = run_python(
      "n = sys.argv[1]\nset_octopusvariable(n, get_octopusvariable(n))\n"
      "set_octopusvariable(n, octopusvariables[n], sensitive=True)\n",
      vars, {name});
  RC_ASSERT(r.exit_code == 0);
  const auto m = messages(r.out);
  RC_ASSERT(m.size() == 2u);
  for (const auto& x : m) {
    RC_ASSERT(attribute(x, "name") == name);
    RC_ASSERT(attribute(x, "value") == expected);
  }
}

}  // namespace

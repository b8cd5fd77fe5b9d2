// The Python bootstrap: the helper API of calamari-spec §1.1 for Python 3, reading its variables from the
// channel, then running the user's script as __main__ with the helpers as globals.
// Tested by tests/bootstrappers/python_test.cpp
//
// Design notes (the bootstrap is python/cuttle_bootstrap.py, embedded at build time; it holds no value):
// - `python3 cuttle-bootstrap.py` runs a small loader that executes cuttle-bootstrap-main.py, from the
//   bytecode the build compiled (cuttle-bootstrap-main.pyc) when this interpreter's magic number matches,
//   else from its source. Compiling the bootstrap was about 2.5 ms of CPU on every run.
// - The payload is read with one read (mapped instead when it is 1 MiB or more), decoded once and split
//   once into the `octopusvariables` dict; no other work per variable. Invalid UTF-8 survives as
//   surrogate escapes and is written back unchanged.
// - The interpreter runs as `python3 -u` without -I or -E: -I would drop PYTHONPATH and the user's site
//   packages (`pip install --user`), which hook scripts rely on, and isolation buys nothing here because
//   the bootstrap imports nothing from those paths before the script runs. -u keeps stdout and stderr in
//   order and service messages immediate, as Calamari does.
// - The user's script runs in a fresh module registered as sys.modules['__main__'], with sys.argv =
//   [script, args...], sys.path[0] = the script's directory and the bootstrap directory (script modules)
//   right after it. The helpers are closures, so the bootstrap's internals are not in the script's globals.
// - An uncaught exception is printed through sys.excepthook without the bootstrap's frame, exit code 1.

#include <string>

#include "cuttle/bootstrappers/bootstrap.hpp"
#include "languages.hpp"

namespace cuttle::bootstrappers::detail {
namespace {

// Run as the script: loads the bootstrap beside it, from its bytecode when this interpreter has the magic
// number it was compiled with (the build's python3), else from its source. Code only, like the rest.
constexpr std::string_view loader_text =
    R"python(# cuttle python bootstrap loader: runs cuttle-bootstrap-main.py (see docs/scripts.md).
import sys


def __cuttle_load():
    import marshal
    here = __file__.rpartition('/')[0]
    magic = getattr(sys.modules.get('_frozen_importlib_external'), 'MAGIC_NUMBER', None)
    try:
        with open(here + '/cuttle-bootstrap-main.pyc', 'rb') as compiled:
            data = compiled.read()
        if magic and data[:len(magic)] == magic:
            return marshal.loads(memoryview(data)[len(magic):])
    except (OSError, EOFError, ValueError, TypeError):
        pass
    with open(here + '/cuttle-bootstrap-main.py', 'rb') as source:
        return compile(source.read(), here + '/cuttle-bootstrap-main.py', 'exec', dont_inherit=True)


exec(__cuttle_load())
)python";

}  // namespace

std::string python_preamble() { return std::string(python_bootstrap_source); }

launch_plan python_plan(const std::string& script, const std::vector<std::string>& args,
                        const engine::variables& vars) {
  launch_plan plan;
  plan.files.push_back({std::string(python_bootstrap_name), std::string(loader_text)});
  plan.files.push_back({std::string(python_bootstrap_main_name), std::string(python_bootstrap_source)});
  if (!python_bootstrap_code.empty())
    plan.files.push_back({std::string(python_bootstrap_code_name), std::string(python_bootstrap_code)});
  for (auto& m : script_modules(vars, language::python))
    plan.files.push_back({m.file_stem + ".py", std::move(m.content)});
  plan.argv = {"python3", "-u", "{dir}/" + std::string(python_bootstrap_name), script};
  plan.argv.insert(plan.argv.end(), args.begin(), args.end());
  return plan;
}

}  // namespace cuttle::bootstrappers::detail

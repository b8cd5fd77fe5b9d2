// The Python bootstrap: the helper API of calamari-spec §1.1 for Python 3, reading its variables from the
// channel, then running the user's script as __main__ with the helpers as globals.
// Tested by tests/bootstrappers/python_test.cpp
//
// Design notes (the script below is the whole bootstrap; it holds no value):
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

constexpr std::string_view bootstrap_text =
    R"python(# cuttle python bootstrap: gives a hook script the Octopus helper API (octopusvariables,
# get_octopusvariable, set_octopusvariable, createartifact, updateprogress, failstep, print*). Code only: the
# variables arrive through the descriptor named by CUTTLE_VARIABLES_FD. See docs/scripts.md.
# Usage: python3 -u cuttle-bootstrap.py SCRIPT [ARGS...]
import os
import sys


def __cuttle_main():
    import binascii
    import builtins

    def fatal(message):
        sys.stderr.write('cuttle: ' + message + '\n')
        sys.stderr.flush()
        raise SystemExit(2)

    def read_channel():
        fd_text = os.environ.pop('CUTTLE_VARIABLES_FD', None)
        if fd_text is None:
            return {}
        if not fd_text.isdigit():
            fatal('cannot read the variables channel (descriptor %s)' % fd_text)
        fd = int(fd_text)
        data = None
        try:
            # A large memfd is mapped, not read: its pages are already in memory, so this saves a copy
            # of the payload and a page fault per page of it.
            if os.fstat(fd).st_size >= 1 << 20:
                import mmap
                data = mmap.mmap(fd, 0, flags=mmap.MAP_PRIVATE | getattr(mmap, 'MAP_POPULATE', 0),
                                 prot=mmap.PROT_READ)
            else:
                with open(fd, 'rb', closefd=False) as channel:
                    data = channel.read()
            os.close(fd)
        except (OSError, ValueError):
            fatal('cannot read the variables channel (descriptor %s)' % fd_text)
        try:
            if data[:8] != b'CUTTLE1\0' or (len(data) > 8 and data[-1:] != b'\0'):
                fatal('the variables channel does not hold a cuttle payload')
            # Decoding a view of the bytes saves copying the payload once more.
            with memoryview(data) as view:
                parts = str(view[8:], 'utf-8', 'surrogateescape').split('\0')
        finally:
            if not isinstance(data, bytes):
                data.close()
        if len(parts) % 2 != 1:
            fatal('the variables channel does not hold a cuttle payload')
        pairs = iter(parts)
        return dict(zip(pairs, pairs))

    octopusvariables = read_channel()

    def text(value):
        return '' if value is None else str(value)

    def encode(value):
        return binascii.b2a_base64(text(value).encode('utf-8', 'surrogateescape'), newline=False).decode('ascii')

    def emit(line):
        out = sys.stdout
        out.write(line + '\n')
        out.flush()

    def send(name, *attributes):
        emit('##octopus[' + name + ''.join(
            " %s='%s'" % (attributes[i], encode(attributes[i + 1])) for i in range(0, len(attributes), 2)) + ']')

    def log(level, value):
        emit('##octopus[stdout-' + level + ']\n' + text(value) + '\n##octopus[stdout-default]')

    def get_octopusvariable(key):
        """The value of the variable `key` (case-sensitive), or '' when there is none."""
        return octopusvariables.get(key, '')

    def set_octopusvariable(name, value, sensitive=False):
        """Sets an output variable (and octopusvariables[name])."""
        name, value = text(name), text(value)
        if sensitive:
            send('setVariable', 'name', name, 'value', value, 'sensitive', 'True')
        else:
            send('setVariable', 'name', name, 'value', value)
        octopusvariables[name] = value

    def createartifact(path, fileName=None):
        """Collects the file at `path` after the step; `fileName` defaults to its base name."""
        path = os.fspath(path)
        if fileName is None:
            fileName = os.path.basename(path)
        full = os.path.abspath(path)
        length = os.stat(full).st_size if os.path.isfile(full) else 0
        send('createArtifact', 'path', full, 'name', fileName, 'length', length)

    def updateprogress(progress, message=None):
        """Reports progress (a percentage) with an optional message."""
        send('progress', 'percentage', progress, 'message', message)

    def failstep(message=None):
        """Fails the step with an optional result message; exits with code 255."""
        if message:
            send('resultMessage', 'message', message)
        raise SystemExit(255)

    def printverbose(value):
        log('verbose', value)

    def printhighlight(value):
        log('highlight', value)

    def printwait(value):
        log('wait', value)

    def printwarning(value):
        log('warning', value)

    if len(sys.argv) < 2:
        fatal('no script to run')
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.realpath(sys.path[0] or '.') == os.path.realpath(here):
        sys.path[0] = os.path.dirname(os.path.realpath(script))
        sys.path.insert(1, here)
    else:
        sys.path.insert(0, here)

    module = type(sys)('__main__')
    scope = module.__dict__
    scope.update(__file__=script, __builtins__=builtins, __cached__=None, sys=sys, os=os,
                 octopusvariables=octopusvariables, get_octopusvariable=get_octopusvariable,
                 set_octopusvariable=set_octopusvariable, createartifact=createartifact,
                 updateprogress=updateprogress, failstep=failstep, printverbose=printverbose,
                 printhighlight=printhighlight, printwait=printwait, printwarning=printwarning)
    try:
        with open(script, 'rb') as source_file:
            source = source_file.read()
    except OSError as error:
        fatal("can't open file %r: %s" % (script, error.strerror))
    sys.modules['__main__'] = module
    try:
        exec(compile(source, script, 'exec'), scope)
    except SystemExit:
        raise
    except Exception as error:
        # Leave out this function's frame, so the traceback starts in the user's script.
        trace = error.__traceback__
        error = error.with_traceback(trace.tb_next if trace is not None else None)
        sys.excepthook(type(error), error, error.__traceback__)
        raise SystemExit(1)


__cuttle_main()
)python";

}  // namespace

std::string python_preamble() { return std::string(bootstrap_text); }

launch_plan python_plan(const std::string& script, const std::vector<std::string>& args,
                        const engine::variables& vars) {
  launch_plan plan;
  plan.files.push_back({std::string(python_bootstrap_name), std::string(bootstrap_text)});
  for (auto& m : script_modules(vars, language::python))
    plan.files.push_back({m.file_stem + ".py", std::move(m.content)});
  plan.argv = {"python3", "-u", "{dir}/" + std::string(python_bootstrap_name), script};
  plan.argv.insert(plan.argv.end(), args.begin(), args.end());
  return plan;
}

}  // namespace cuttle::bootstrappers::detail

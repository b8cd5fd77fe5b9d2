# cuttle python bootstrap: gives a hook script the Octopus helper API (octopusvariables,
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

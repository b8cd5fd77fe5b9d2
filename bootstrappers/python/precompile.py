"""Build step: compiles the Python bootstrap to bytecode, so `cuttle run` need not compile it on every run.

    python3 precompile.py SOURCE OUTPUT

OUTPUT is this interpreter's bytecode magic number (importlib.util.MAGIC_NUMBER) followed by the marshalled
code object. At run time the bootstrap's loader uses it only when the running interpreter has the same
magic number, and compiles SOURCE otherwise (bootstrappers/src/python.cpp).
"""
import importlib.util
import marshal
import os
import sys


def main():
    source_path, output_path = sys.argv[1], sys.argv[2]
    with open(source_path, 'rb') as source_file:
        source = source_file.read()
    code = compile(source, 'cuttle-bootstrap-main.py', 'exec', dont_inherit=True)
    data = importlib.util.MAGIC_NUMBER + marshal.dumps(code)
    with open(output_path + '.tmp', 'wb') as output:
        output.write(data)
    os.replace(output_path + '.tmp', output_path)


main()

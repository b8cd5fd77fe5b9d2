#!/usr/bin/env bash
# Install test: installs a configured and built cuttle build tree into a temporary prefix, then configures,
# builds and runs the consumer project in this directory against it. Usage: tests/install/run.sh BUILD_DIR
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build_dir=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/cuttle-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Build the consumer the way the library was built: same compiler and, for sanitizer builds, the
# sanitizer runtime (the static library carries instrumented code but not the link flags).
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$build_dir/CMakeCache.txt"; }
compiler=$(cache_value CMAKE_CXX_COMPILER)
extra=()
if [[ $(cache_value CUTTLE_SANITIZE) =~ ^(ON|on|1|TRUE|true|YES|yes)$ ]]; then
  extra+=(-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined)
fi

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$here" -B "$work/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER="$compiler" -DCMAKE_PREFIX_PATH="$work/prefix" "${extra[@]}" >/dev/null
cmake --build "$work/build"
"$work/build/consumer"

#!/usr/bin/env bash
# The test command: installs dependencies, builds cuttle with gcc (optimised, assertions kept) and runs
# every test except those labelled `slow`. Build directory: build/ (override with CUTTLE_BUILD_DIR).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${CUTTLE_BUILD_DIR:-$root/build}
jobs=${CUTTLE_TEST_JOBS:-2}

bash "$root/scripts/setup.sh"
# setup.sh installs PowerShell as a .NET global tool, which lands in ~/.dotnet/tools.
if [[ -d $HOME/.dotnet/tools && :$PATH: != *":$HOME/.dotnet/tools:"* ]]; then
  export PATH=$PATH:$HOME/.dotnet/tools
fi

# RelWithDebInfo normally adds -DNDEBUG; override its flags so assert() stays active.
cmake -S "$root" -B "$build_dir" -G Ninja \
  -DCMAKE_CXX_COMPILER=g++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g" \
  -DCUTTLE_WERROR="${CUTTLE_WERROR:-OFF}"
cmake --build "$build_dir"

cd "$build_dir"
ctest --output-on-failure -j"$jobs" -LE slow

#!/usr/bin/env bash
# Installs every Debian package cuttle needs to build, test, fuzz and benchmark.
# Idempotent: installed packages are detected with `dpkg -s`; apt runs only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git python3
  tao-pegtl-dev nlohmann-json3-dev libutf8proc-dev libfmt-dev
  librapidcheck-dev libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev clang-format
  libpcre2-dev libssl-dev libcmark-gfm-dev libcmark-gfm-extensions-dev
  libpugixml-dev libfyaml-dev libyaml-dev
  hyperfine gnuplot-nox
)

missing=()
for package in "${packages[@]}"; do
  # `dpkg -s` also succeeds for removed packages whose config files remain, so check the status line.
  if ! dpkg -s "$package" 2>/dev/null | grep -q '^Status: install ok installed$'; then
    missing+=("$package")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#packages[@]} packages are installed"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup: missing packages: ${missing[*]}" >&2
  echo "setup: not root and sudo is not available; install them as root" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"

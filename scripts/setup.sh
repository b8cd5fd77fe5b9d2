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
  libpugixml-dev libfyaml-dev libyaml-dev libarchive-dev bash-builtins
  libzstd-dev liblzma-dev libbz2-dev zlib1g-dev nettle-dev  # libarchive's archives (CUTTLE_STATIC_DEPS)
  hyperfine gnuplot-nox python3-jinja2 gettext-base nodejs
)

# The C# script host (bootstrappers/csharp-host) is built with the .NET SDK, which Debian does not package.
# With `dotnet` present, restore the host's NuGet packages (Roslyn scripting and the ReadyToRun compiler)
# through the configured feed now, so a failure shows here and the build finds them in the cache. Without
# it nothing fails: cuttle builds without C# support and the C# tests report SKIPPED with the reason.
prepare_csharp_host() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "setup: dotnet (the .NET SDK) is not installed: C# scripts (.csx) will not be supported and their tests skip"
    echo "setup: to add them, install the .NET SDK: https://learn.microsoft.com/dotnet/core/install/linux-debian"
    return 0
  fi
  local root work status=0
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  work=$(mktemp -d "${TMPDIR:-/tmp}/cuttle-dotnet-restore.XXXXXX")
  DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 \
    dotnet restore "$root/bootstrappers/csharp-host/cuttle-csharp-host.csproj" --use-current-runtime \
    -p:PublishReadyToRun=true --artifacts-path "$work" -nodeReuse:false >"$work/restore.log" 2>&1 || status=$?
  if [[ $status -eq 0 ]]; then
    echo "setup: the C# script host's NuGet packages are restored ($(dotnet --version 2>/dev/null || echo '?'))"
  else
    cat "$work/restore.log" >&2
    echo "setup: warning: could not restore the C# script host's NuGet packages (above); the build retries," \
         "and -DCUTTLE_CSHARP_HOST=OFF builds cuttle without C# support" >&2
  fi
  rm -rf "$work"
}

# PowerShell 7 (pwsh) runs .ps1 hook scripts. Debian 12 has no package for it; the .NET global tool is the
# one other way here. The version is pinned: the feed here serves 7.6.10, and its newest (7.7.0) fails to
# install. When it cannot be had at all, say so: the PowerShell tests then report SKIPPED with the reason.
prepare_powershell() {
  if command -v pwsh >/dev/null 2>&1 || [[ -x $HOME/.dotnet/tools/pwsh ]]; then
    echo "setup: pwsh is installed"
    return 0
  fi
  if command -v dotnet >/dev/null 2>&1 &&
      DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet tool install --global PowerShell --version "${CUTTLE_PWSH_VERSION:-7.6.10}" >/dev/null 2>&1; then
    echo "setup: installed pwsh with dotnet tool install --global PowerShell (add ~/.dotnet/tools to PATH)"
    return 0
  fi
  echo "setup: pwsh (PowerShell 7) is not available (not in Debian 12; dotnet tool install --global PowerShell" \
       "failed): .ps1 scripts need it, and the PowerShell tests skip"
}

# F# scripts run with `dotnet fsi`, part of the .NET SDK.
report_fsharp() {
  if command -v dotnet >/dev/null 2>&1; then
    echo "setup: F# scripts (.fsx) run with dotnet fsi ($(dotnet --version 2>/dev/null || echo '?'))"
  else
    echo "setup: dotnet is not installed: F# scripts (.fsx) will not run and their tests skip"
  fi
}

prepare_interpreters() {
  prepare_csharp_host
  report_fsharp
  prepare_powershell
}

missing=()
for package in "${packages[@]}"; do
  # `dpkg -s` also succeeds for removed packages whose config files remain, so check the status line.
  if ! dpkg -s "$package" 2>/dev/null | grep -q '^Status: install ok installed$'; then
    missing+=("$package")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#packages[@]} packages are installed"
  prepare_interpreters
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
prepare_interpreters

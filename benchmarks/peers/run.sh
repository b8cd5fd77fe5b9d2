#!/usr/bin/env bash
# cuttle against peer template engines on the make-workloads.py workloads: Jinja2 (Python), Handlebars and
# mustache.js (Node, from benchmarks/peers/package.json), envsubst (GNU gettext) and, when the NuGet feed
# serves it, Octostache (probed only; see below).
#
# Usage: benchmarks/peers/run.sh [--update-docs] [--runs N] [--warmup N] [--min-time S] [--repetitions N]
#                                [--workloads flat,rich,passthrough,bigvars] [--build-dir DIR] [--out DIR]
#                                [--no-build]
#
#   --update-docs   also rewrite the generated block of docs/performance.md (between <!-- peers:begin -->
#                   and <!-- peers:end -->) and docs/performance-peers.png
#   --runs/--warmup hyperfine runs per whole-process measurement (default 5, warm-up 1)
#   --min-time      seconds each peer's in-process loop runs at least (default 3; at least 3 iterations)
#   --repetitions   Google Benchmark repetitions for cuttle's in-process figure (default 5)
#   --build-dir     where cuttle, render_benchmark and the workloads are built (default build-bench, Release)
#   --out           results (default BUILD_DIR/peers): hyperfine JSON, outputs, peers.md, the chart
#   --no-build      use the binaries and workloads already in BUILD_DIR as they are
#
# Steps: build cuttle and render_benchmark (Release) and generate the workloads; translate each workload into
# each peer's syntax (translate.py); render once with every engine and compare the output with cuttle's
# byte for byte (an engine whose output differs is left out of that workload, loudly); time the whole
# process with hyperfine (start-up, reading files, writing output to /dev/null: what a pipeline pays); time
# in-process parse-and-render (cuttle: render_benchmark's evaluate/* and load_and_render/bigvars; peers:
# their drivers' loops); print MB/s and cuttle's ratio to each peer, and draw the chart (summarize.py).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
peers=$root/benchmarks/peers
build_dir=$root/build-bench
out=
runs=5
warmup=1
min_time=3
repetitions=5
update_docs=0
build=1
workloads=flat,rich,passthrough,bigvars
while [[ $# -gt 0 ]]; do
  case $1 in
    --update-docs) update_docs=1; shift ;;
    --runs) runs=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --min-time) min_time=$2; shift 2 ;;
    --repetitions) repetitions=$2; shift 2 ;;
    --workloads) workloads=$2; shift 2 ;;
    --build-dir) build_dir=$(realpath -m "$2"); shift 2 ;;
    --out) out=$(realpath -m "$2"); shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,/^set -e/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    *) echo "peers: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
out=${out:-$build_dir/peers}
IFS=, read -r -a workload_list <<<"$workloads"

say() { printf 'peers: %s\n' "$*"; }

for tool in cmake hyperfine gnuplot python3; do
  command -v "$tool" >/dev/null || { say "$tool not found (run scripts/setup.sh)" >&2; exit 1; }
done

# --- build ---------------------------------------------------------------------------------------------
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
if [[ $build == 1 && ! -f $build_dir/CMakeCache.txt ]]; then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S "$root" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER="${CXX:-g++}" -DCUTTLE_BUILD_TESTS=OFF -DCUTTLE_BUILD_FUZZERS=OFF \
    -DCUTTLE_BUILD_BENCHMARKS=ON -DCUTTLE_CSHARP_HOST=OFF >/dev/null
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
[[ $build_type == Release ]] || say "warning: $build_dir is a '$build_type' build, not Release"
[[ $build == 0 ]] || cmake --build "$build_dir" --target cuttle render_benchmark benchmark_data
cuttle=$build_dir/runner/cuttle
render_benchmark=$build_dir/benchmarks/render_benchmark
data=$build_dir/benchmarks/data
for f in "$cuttle" "$render_benchmark" "$data/bigvars/vars.json"; do
  [[ -e $f ]] || { say "$f is missing: build it (run without --no-build)" >&2; exit 1; }
done

rm -rf "$out"
mkdir -p "$out/whole" "$out/inproc" "$out/outputs"
: >"$out/status.tsv"
: >"$out/versions.tsv"
printf 'date\t%s\nload\t%s\nruns\t%s\nwarmup\t%s\nmin_time\t%s\nrepetitions\t%s\n' "$(date +%F)" \
  "$load_at_start" "$runs" "$warmup" "$min_time" "$repetitions" >"$out/run.tsv"
version() { printf '%s\t%s\n' "$1" "$2" >>"$out/versions.tsv"; }
version cuttle "$("$cuttle" --version 2>/dev/null | head -1 | sed "s/^cuttle //" || echo "?") (Release, $(basename "$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build_dir/CMakeCache.txt")"))"
version hyperfine "$(hyperfine --version | cut -d' ' -f2)"

# --- peers available here ------------------------------------------------------------------------------
declare -A have=([cuttle]=1)
python=
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import jinja2' 2>/dev/null; then
    # The interpreter itself, not a pyenv shim (a shim would add ~50 ms of start-up to Jinja2's runs).
    python=$("$candidate" -c 'import sys; print(sys.executable)')
    break
  fi
done
if [[ -n $python ]]; then
  have[jinja2]=1
  version jinja2 "$("$python" -c 'import jinja2, platform; print(jinja2.__version__, "(CPython", platform.python_version() + ")")')"
else
  say "Jinja2 is not available (install python3-jinja2): left out"
fi
if command -v node >/dev/null; then
  if [[ ! -d $peers/node_modules/mustache || ! -d $peers/node_modules/handlebars ]] && command -v npm >/dev/null; then
    say "installing mustache and handlebars into $peers/node_modules (npm ci)"
    npm ci --prefix "$peers" --no-audit --no-fund >/dev/null || true
  fi
  for e in mustache handlebars; do
    if v=$(cd "$peers" && node -e "console.log(require('./node_modules/$e/package.json').version)" 2>/dev/null); then
      have[$e]=1
      version "$e" "$v (Node $(node --version))"
    else
      say "$e is not installed in $peers/node_modules (npm ci --prefix benchmarks/peers): left out"
    fi
  done
else
  say "node is not installed: mustache and Handlebars are left out"
fi
if command -v envsubst >/dev/null; then
  have[envsubst]=1
  version envsubst "$(envsubst --version | head -1 | sed 's/^envsubst (\(.*\))/\1/')"
else
  say "envsubst is not installed (gettext-base): left out"
fi

# Octostache, the reference implementation, is a .NET library on NuGet. Ask every configured feed for it.
octostache="not probed: dotnet is not installed"
if command -v dotnet >/dev/null && command -v curl >/dev/null; then
  octostache="not served by any configured NuGet feed"
  while read -r feed; do
    base=$(curl -fsS -m 15 "$feed" 2>/dev/null | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("resources", []):
    if r.get("@type", "").startswith("PackageBaseAddress"):
        print(r["@id"].rstrip("/")); break' 2>/dev/null || true)
    [[ -n $base ]] || continue
    if versions=$(curl -fsS -m 15 "$base/octostache/index.json" 2>/dev/null); then
      octostache="served by $feed ($(python3 -c 'import json,sys; print(json.load(sys.stdin)["versions"][-1])' <<<"$versions")), but no driver is written for it yet: left out"
      break
    fi
    octostache="not served by $feed (the package index answers 404), so it is left out"
  done < <(DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet nuget list source --format short 2>/dev/null |
           awk '$1 ~ /^E/ {print $2}')
fi
say "Octostache: $octostache"
version octostache "$octostache"

# --- translate and check that every engine does the same work ---------------------------------------------
python3 "$peers/translate.py" "$data" "$out/work" --cuttle "$cuttle"
manifest() { python3 -c "import json,sys; v=json.load(open('$out/work/manifest.json'))['$1'].get('$2'); print(v if v is not None else '')"; }
engines_of() { python3 -c "import json; print(' '.join(json.load(open('$out/work/manifest.json'))['$1']['engines']))"; }
q() { printf '%q' "$1"; }

# The command line (a shell command for hyperfine) that renders workload $1 with engine $2 in "render" mode.
command_for() {
  local w=$1 e=$2 tmpl=$out/work/$1/$2.tmpl ctx vars
  ctx=$(manifest "$w" context)
  case $e in
    cuttle)
      vars=$(manifest "$w" variables)
      printf '%s render %s%s' "$(q "$cuttle")" "${vars:+--variables $(q "$vars") }" "$(q "$(manifest "$w" template)")" ;;
    jinja2) printf '%s %s render %s %s' "$(q "$python")" "$(q "$peers/jinja2_driver.py")" "$(q "$tmpl")" "$(q "$ctx")" ;;
    mustache|handlebars) printf 'node %s %s render %s %s' "$(q "$peers/node_driver.js")" "$e" "$(q "$tmpl")" "$(q "$ctx")" ;;
    envsubst) printf 'envsubst < %s' "$(q "$tmpl")" ;;
  esac
}

# Runs "${@:3}" with workload $1's variables exported when engine $2 is envsubst (it reads the
# environment); the other engines run in the ordinary environment.
with_env() {
  local w=$1 e=$2
  shift 2
  if [[ $e == envsubst ]]; then
    bash -c '. "$1"; shift; exec "$@"' with-env "$out/work/$w/envsubst.env" "$@"
  else
    "$@"
  fi
}

declare -A take_part
for w in "${workload_list[@]}"; do
  say "checking outputs: $w"
  bash -c "$(command_for "$w" cuttle)" >"$out/outputs/$w.cuttle" 2>/dev/null
  for e in cuttle $(engines_of "$w"); do
    reason=$(python3 -c "import json; print(json.load(open('$out/work/manifest.json'))['$w']['engines'].get('$e', 'ok'))")
    if [[ -z ${have[$e]:-} ]]; then
      reason="not available on this machine"
    elif [[ $reason == ok && $e != cuttle ]]; then
      if ! with_env "$w" "$e" bash -c "$(command_for "$w" "$e")" >"$out/outputs/$w.$e" 2>"$out/outputs/$w.$e.err"; then
        reason="failed: $(tail -1 "$out/outputs/$w.$e.err")"
      elif ! cmp -s "$out/outputs/$w.cuttle" "$out/outputs/$w.$e"; then
        reason="its output differs from cuttle's ($(cmp "$out/outputs/$w.cuttle" "$out/outputs/$w.$e" 2>&1 | head -1))"
      fi
      rm -f "$out/outputs/$w.$e"
    fi
    [[ $reason == ok ]] && take_part[$w.$e]=1 || say "  $e: $reason"
    printf '%s\t%s\t%s\n' "$w" "$e" "$reason" >>"$out/status.tsv"
  done
  rm -f "$out/outputs/$w.cuttle"
done

# --- whole process ---------------------------------------------------------------------------------------
for w in "${workload_list[@]}"; do
  for e in cuttle jinja2 handlebars mustache envsubst; do
    [[ -n ${take_part[$w.$e]:-} ]] || continue
    say "whole process: $w, $e"
    with_env "$w" "$e" hyperfine --warmup "$warmup" --runs "$runs" --style basic \
      --export-json "$out/whole/$w-$e.json" -n "$e" "$(command_for "$w" "$e")" | grep -E 'Time|Range' || true
  done
done

# --- in-process ------------------------------------------------------------------------------------------
filter=
for w in "${workload_list[@]}"; do
  case $w in bigvars) filter+="|load_and_render/bigvars" ;; *) filter+="|evaluate/$w" ;; esac
done
say "in-process: cuttle (render_benchmark, $repetitions repetitions)"
"$render_benchmark" --benchmark_filter="^(${filter#|})\$" --benchmark_repetitions="$repetitions" \
  --benchmark_report_aggregates_only=true --benchmark_format=json >"$out/inproc/cuttle.json"
for w in "${workload_list[@]}"; do
  extra=()
  [[ $w == bigvars ]] && extra=(--context-in-loop)  # loading the variables file is the work measured
  for e in jinja2 handlebars mustache; do
    [[ -n ${take_part[$w.$e]:-} ]] || continue
    say "in-process: $w, $e"
    tmpl=$out/work/$w/$e.tmpl
    ctx=$(manifest "$w" context)
    driver=(node --expose-gc "$peers/node_driver.js" "$e")
    [[ $e == jinja2 ]] && driver=("$python" "$peers/jinja2_driver.py")
    if ! "${driver[@]}" bench "$tmpl" "$ctx" --min-time "$min_time" "${extra[@]}" >"$out/inproc/$w-$e.json" \
        2>"$out/inproc/$w-$e.err"; then
      why=$(grep -m1 -E 'Error|error' "$out/inproc/$w-$e.err" || tail -1 "$out/inproc/$w-$e.err")
      say "  $e failed: $why"
      python3 -c 'import json, sys; print(json.dumps({"error": sys.argv[1]}))' "$why" >"$out/inproc/$w-$e.json"
    fi
  done
done

# --- report ----------------------------------------------------------------------------------------------
echo
if [[ $update_docs == 1 ]]; then
  python3 "$peers/summarize.py" "$out" --update-docs "$root/docs/performance.md" "$root/docs/performance-peers.png"
else
  python3 "$peers/summarize.py" "$out"
  say "run with --update-docs to write this into docs/performance.md and docs/performance-peers.png"
fi

#!/usr/bin/env bash
# Whole-process timings of the `cuttle` CLI against envsubst and cat (render, mask), and of `cuttle run`
# against the bare interpreters, measured with hyperfine on the make-workloads.py workloads.
# Usage: benchmarks/cli_bench.sh [--scale N] [CUTTLE_BINARY]
# Without a binary, builds build-release/runner/cuttle (Release). Prints medians and ratios at the end.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
scale=1
cuttle=
while [[ $# -gt 0 ]]; do
  case $1 in
    --scale) scale=$2; shift 2 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) cuttle=$1; shift ;;
  esac
done

for tool in hyperfine envsubst python3; do
  command -v "$tool" >/dev/null || { echo "cli_bench: $tool not found (run scripts/setup.sh)" >&2; exit 1; }
done

if [[ -z $cuttle ]]; then
  build_dir=$root/build-release
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCUTTLE_BUILD_TESTS=OFF -DCUTTLE_BUILD_FUZZERS=OFF -DCUTTLE_BUILD_BENCHMARKS=OFF >/dev/null
  cmake --build "$build_dir" --target cuttle
  # The C# script host, when the .NET SDK is there (the target exists only then).
  cmake --build "$build_dir" --target cuttle_csharp_host 2>/dev/null || true
  cuttle=$build_dir/runner/cuttle
fi
cuttle=$(realpath "$cuttle")
q_cuttle=$(printf '%q' "$cuttle")  # for the command strings hyperfine hands to a shell

work=$(mktemp -d "${TMPDIR:-/tmp}/cuttle-cli-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "cli_bench: generating workloads (scale $scale) in $work"
python3 "$root/benchmarks/make-workloads.py" "$work/data" --scale "$scale"
data=$work/data
cd "$data"

# envsubst reads its values from the environment: a wrapper exports the 2,000 flat variables and runs
# hyperfine under them, so envsubst itself is timed without the cost of setting them up.
python3 - flat/vars.json >"$work/flat-env.sh" <<'PY'
import json, shlex, sys
for name, value in json.load(open(sys.argv[1])).items():
    print(f"export {name}={shlex.quote(value)}")
PY
cat >"$work/with-flat-env.sh" <<'SH'
#!/usr/bin/env bash
. "$(dirname "$0")/flat-env.sh"
exec "$@"
SH
chmod +x "$work/with-flat-env.sh"

printf '#{Name}\n' >"$work/bigvars.octo"

hf=(hyperfine --warmup 3 --min-runs 10 --style basic)

echo
echo "== flat: 2,000 variables, 100,000 references"
"$work/with-flat-env.sh" "${hf[@]}" --export-json "$work/flat.json" \
  -n cuttle "$q_cuttle render --variables flat/vars.json flat/template.octo > /dev/null" \
  -n envsubst "envsubst < flat/template.envsubst > /dev/null"

echo
echo "== passthrough: 32 MB without #{"
"${hf[@]}" --export-json "$work/passthrough.json" \
  -n cat "cat passthrough/input.txt > /dev/null" \
  -n cuttle "$q_cuttle render passthrough/input.txt > /dev/null"

echo
echo "== rich: filters, conditionals, loops, JSON values (about 2 MB)"
"${hf[@]}" --export-json "$work/rich.json" \
  -n cuttle "$q_cuttle render --variables rich/vars.json rich/template.octo > /dev/null"

echo
echo "== bigvars: loading 20,000 variables (about 13 MB of JSON) for a one-line template"
"${hf[@]}" --export-json "$work/bigvars.json" \
  -n cuttle "$q_cuttle render --variables bigvars/vars.json $work/bigvars.octo > /dev/null"

echo
echo "== mask: cuttle mask on a 10.8 MB log with 1,000 secrets, against cat"
"${hf[@]}" --export-json "$work/mask.json" \
  -n cat "cat mask/log.txt > /dev/null" \
  -n cuttle "$q_cuttle mask --sensitive-variables mask/secrets.json < mask/log.txt > /dev/null"

# cuttle run: a script that reads one variable, with 10 variables and with the 20,000 of bigvars, against
# the bare interpreter running an empty script. C# and F# run when dotnet (and the C# host) are there;
# PowerShell when pwsh is.
python3 - bigvars/vars.json "$work/ten.json" <<'PY'
import json, sys
names = list(json.load(open(sys.argv[1])).items())
json.dump(dict(names[:9] + [("Name", "World")]), open(sys.argv[2], "w"))
PY
python3 - bigvars/vars.json <<'PY'
import json, sys
v = json.load(open(sys.argv[1])); v["Name"] = "World"; json.dump(v, open(sys.argv[1], "w"))
PY
printf 'x=$(get_octopusvariable Name)\n' >"$work/read.sh"
printf 'x = get_octopusvariable("Name")\n' >"$work/read.py"
printf 'var x = OctopusParameters["Name"];\n' >"$work/read.csx"
printf 'let x = findVariable "Name"\n' >"$work/read.fsx"
printf '$x = $OctopusParameters["Name"]\n' >"$work/read.ps1"
: >"$work/empty.sh"
: >"$work/empty.py"
: >"$work/empty.csx"
: >"$work/empty.fsx"
: >"$work/empty.ps1"
libexec=$(dirname "$(dirname "$cuttle")")/lib/cuttle
run_langs=(bash python)
declare -A bare=(
  [bash]="bash --noprofile --norc $work/empty.sh"
  [python]="python3 -u $work/empty.py"
)
if command -v dotnet >/dev/null; then
  run_langs+=(fsharp)
  bare[fsharp]="dotnet fsi $work/empty.fsx"
  if [[ -f $libexec/csharp-host/cuttle-csharp-host.dll ]]; then
    run_langs+=(csharp)
    bare[csharp]="dotnet $libexec/csharp-host/cuttle-csharp-host.dll $work/empty.csx $work/empty.csx"
  else
    echo "cli_bench: no C# host at $libexec/csharp-host: C# is left out"
  fi
fi
if command -v pwsh >/dev/null; then
  run_langs+=(powershell)
  bare[powershell]="pwsh -NoLogo -NoProfile -NonInteractive -File $work/empty.ps1"
else
  echo "cli_bench: pwsh is not installed: PowerShell is left out"
fi
declare -A ext=([bash]=sh [python]=py [csharp]=csx [fsharp]=fsx [powershell]=ps1)
for lang in "${run_langs[@]}"; do
  runs=10
  [[ $lang == bash || $lang == python ]] && runs=20
  echo
  echo "== run-$lang: read one variable with 10 and with 20,000 variables, against an empty script"
  CUTTLE_LIBEXEC_DIR=$libexec hyperfine --warmup 2 --min-runs $runs --style basic \
    --export-json "$work/run-$lang.json" \
    -n bare "${bare[$lang]}" \
    -n cuttle "$q_cuttle run --log-format plain --variables $work/ten.json $work/read.${ext[$lang]}" \
    -n cuttle-bigvars "$q_cuttle run --log-format plain --variables bigvars/vars.json $work/read.${ext[$lang]}"
done

echo
python3 - "$work" <<'PY'
import glob, json, os, statistics, sys
work = sys.argv[1]
def medians(name):
    with open(f"{work}/{name}.json") as f:
        results = json.load(f)["results"]
    return {r["command"]: r.get("median") or statistics.median(r["times"]) for r in results}
print(f"{'workload':<12} {'cuttle':>10}  {'baseline':<10} {'baseline':>10}  {'cuttle / baseline':>17}")
for workload in ("flat", "passthrough", "rich", "bigvars", "mask"):
    m = medians(workload)
    cuttle = m.pop("cuttle")
    row = f"{workload:<12} {cuttle * 1000:>8.1f}ms"
    for name, median in m.items():
        row += f"  {name:<10} {median * 1000:>8.1f}ms  {cuttle / median:>16.2f}x"
    print(row)
print()
print(f"{'cuttle run':<18} {'bare':>10} {'10 vars':>10} {'(+)':>9} {'20,000 vars':>12} {'(+)':>9}")
for path in sorted(glob.glob(f"{work}/run-*.json")):
    lang = os.path.basename(path)[4:-5]
    m = medians(f"run-{lang}")
    b, c, g = m["bare"], m["cuttle"], m["cuttle-bigvars"]
    print(f"{lang:<18} {b*1000:>8.1f}ms {c*1000:>8.1f}ms {1000*(c-b):>+7.1f}ms {g*1000:>10.1f}ms {1000*(g-b):>+7.1f}ms")
print("(medians of whole-process wall-clock times; lower is better)")
PY

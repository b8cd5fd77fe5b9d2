#!/usr/bin/env bash
# Whole-process timings of the `cuttle` CLI against envsubst and cat, measured with hyperfine on the
# make-workloads.py workloads. Usage: benchmarks/cli_bench.sh [--scale N] [CUTTLE_BINARY]
# Without a binary, builds build-release/runner/cuttle (Release). Prints medians and ratios at the end.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
scale=1
cuttle=
while [[ $# -gt 0 ]]; do
  case $1 in
    --scale) scale=$2; shift 2 ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
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
python3 - "$work" <<'PY'
import json, statistics, sys
work = sys.argv[1]
print(f"{'workload':<12} {'cuttle':>10}  {'baseline':<10} {'baseline':>10}  {'cuttle / baseline':>17}")
for workload in ("flat", "passthrough", "rich", "bigvars"):
    with open(f"{work}/{workload}.json") as f:
        results = json.load(f)["results"]
    medians = {r["command"]: r.get("median") or statistics.median(r["times"]) for r in results}
    cuttle = medians.pop("cuttle")
    row = f"{workload:<12} {cuttle * 1000:>8.1f}ms"
    for name, median in medians.items():
        row += f"  {name:<10} {median * 1000:>8.1f}ms  {cuttle / median:>16.2f}x"
    print(row)
print("(medians of whole-process wall-clock times; lower is better)")
PY

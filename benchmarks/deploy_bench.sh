#!/usr/bin/env bash
# cuttle deploy against `tar -x` of the same package: a .tar.gz of 10,000 files (about 20 MB), 1,000 of
# them templates that `Octopus.Action.SubstituteInFiles.TargetFiles` selects. Prints hyperfine's medians and
# the ratio. Usage: benchmarks/deploy_bench.sh [CUTTLE] (default: build-release/runner/cuttle).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cuttle=${1:-$root/build-release/runner/cuttle}
runs=${CUTTLE_BENCH_RUNS:-10}
if [[ ! -x $cuttle ]]; then
  echo "deploy_bench: $cuttle is not built (cmake --build build-release --target cuttle)" >&2
  exit 2
fi
command -v hyperfine >/dev/null || { echo "deploy_bench: hyperfine is needed (scripts/setup.sh)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cuttle-deploy-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

python3 - "$work" <<'EOF'
import json, os, random, sys, tarfile
work = sys.argv[1]
src = os.path.join(work, "src")
rng = random.Random(7)
words = ["alpha", "beta", "gamma", "delta", "server", "port", "timeout", "cache", "user", "region"]
for i in range(10000):
    d = os.path.join(src, f"dir{i % 100:02d}", f"sub{i % 7}")
    os.makedirs(d, exist_ok=True)
    if i % 10 == 0:  # 1,000 templates
        lines = [f"{w}{k} = #{{App.{w}{k % 20}}}" for k, w in enumerate(rng.choices(words, k=40))]
        open(os.path.join(d, f"settings{i}.conf"), "w").write("\n".join(lines) + "\n")
    else:
        open(os.path.join(d, f"file{i}.txt"), "w").write(" ".join(rng.choices(words, k=300)) + "\n")
with tarfile.open(os.path.join(work, "Bench.App.1.0.0.tar.gz"), "w:gz") as t:
    t.add(src, ".")
variables = {f"App.{w}{k}": f"value-{w}-{k}" for w in words for k in range(20)}
variables["Octopus.Action.EnabledFeatures"] = "Octopus.Features.SubstituteInFiles"
variables["Octopus.Action.SubstituteInFiles.TargetFiles"] = "**/*.conf"
json.dump(variables, open(os.path.join(work, "vars.json"), "w"))
EOF

package=$work/Bench.App.1.0.0.tar.gz
echo "package: $(du -h "$package" | cut -f1) compressed, $(tar -tzf "$package" | grep -vc '/$') files"
hyperfine --warmup 1 --runs "$runs" --export-json "$work/result.json" \
  --prepare "rm -rf $work/tar $work/apps; mkdir -p $work/tar" \
  -n "tar -xzf" "tar -xzf $package -C $work/tar" \
  -n "cuttle deploy (10,000 files, 1,000 substituted)" \
  "$cuttle deploy --log-format plain --install-root $work/apps --variables $work/vars.json $package 2>/dev/null"
python3 - "$work/result.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
tar, cuttle = r[0]["median"], r[1]["median"]
print(f"median: tar -xzf {tar*1000:.0f} ms, cuttle deploy {cuttle*1000:.0f} ms: ratio {cuttle/tar:.2f}x")
EOF

#!/usr/bin/env bash
# The long fuzz campaign (README, "Fuzzing"): runs every libFuzzer target (clang, ASan+UBSan) until it has
# used CPU_SECONDS of CPU time in total, across as many sessions as it takes. Resumable: each session's CPU
# time is appended to a ledger, and a target that has its hours is skipped.
#
#   bash scripts/fuzz-campaign.sh [--cpu-seconds N] [--dir DIR] [--ledger FILE] [--parallel N] [target...]
#
# DIR (default ../fuzz-campaign beside the checkout) keeps, per target, the growing corpus, the logs and any
# crashing input. The ledger (date, target, cpu seconds, runs, result, commit) is fuzz/campaign-ledger.tsv
# in the checkout, committed, because machines are not kept between sessions. Fuzzers run at
# nice 19 so that builds and benchmarks take precedence; CPU time, not wall time, is what counts, so a
# paused (SIGSTOP) or starved fuzzer is not credited with time it did not fuzz. The per-input timeout is
# 60 s (CI uses 10 s): libFuzzer measures it in wall time, and a niced fuzzer on a busy machine, or one
# paused for a measurement, would otherwise report slow-but-bounded inputs as hangs.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cpu_seconds=3600
dir=$(dirname "$root")/fuzz-campaign
ledger=$root/fuzz/campaign-ledger.tsv
parallel=1
targets=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --cpu-seconds) cpu_seconds=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --ledger) ledger=$2; shift 2 ;;
    --parallel) parallel=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "fuzz-campaign: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(template filter variables_json service_message structured_json structured_yaml
           structured_xml structured_properties masker)
fi

build=$dir/build
mkdir -p "$dir"
[[ -f $ledger ]] || printf 'date\ttarget\tcpu_seconds\truns\tresult\tcommit\n' >"$ledger"

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCUTTLE_LIBFUZZER=ON -DCUTTLE_SANITIZE=ON \
  -DCUTTLE_BUILD_TESTS=OFF -DCUTTLE_BUILD_BENCHMARKS=OFF >/dev/null
nice -n 19 cmake --build "$build" -j 2 --target "${targets[@]/%/_fuzzer}"
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)

credited() { # CPU seconds already in the ledger for target $1
  awk -F'\t' -v t="$1" '$2 == t { s += $3 } END { print s + 0 }' "$ledger"
}

cpu_of() { # utime + stime of pid $1, in seconds
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  stat=${stat##*) }
  # shellcheck disable=SC2206
  local fields=($stat)
  echo $(((fields[11] + fields[12]) / $(getconf CLK_TCK)))
}

fuzz_one() {
  local name=$1 have need pid cpu=0 status=0 result runs log now
  have=$(credited "$name")
  need=$((cpu_seconds - have))
  if [[ $need -le 0 ]]; then
    echo "-- $name: has ${have}s of ${cpu_seconds}s; skipped"
    return 0
  fi
  local work=$dir/$name
  mkdir -p "$work/corpus" "$work/crashes"
  cp -Rn "$root/fuzz/corpus/$name/." "$work/corpus/"
  log=$work/log-$(date +%Y%m%d-%H%M%S).txt
  echo "-- $name: ${have}s credited, fuzzing for ${need}s of CPU (log $log)"
  LSAN_OPTIONS=suppressions=$root/fuzz/lsan.supp nice -n 19 \
    "$build/fuzz/${name}_fuzzer" "$work/corpus" -dict="$root/fuzz/$name.dict" -max_len=65536 \
    -timeout=60 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/crashes/" \
    >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    now=$(cpu_of "$pid")  # 0 once the process is gone: keep the last reading
    [[ $now -gt $cpu ]] && cpu=$now
    if [[ $cpu -ge $need ]]; then
      kill -INT "$pid" 2>/dev/null || true
      break
    fi
  done
  wait "$pid" || status=$?
  runs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | grep -oE '[0-9]+$' || true)
  [[ -n $runs ]] || runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  if grep -qE 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: ' "$log"; then
    result="FAILED (see $log)"
  else
    result=clean
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -Iseconds)" "$name" "$cpu" "${runs:-0}" "$result" "$commit" \
    >>"$ledger"
  echo "-- $name: ${cpu}s of CPU, ${runs:-0} runs, $result (exit $status)"
}

running=0
for name in "${targets[@]}"; do
  fuzz_one "$name" &
  running=$((running + 1))
  if [[ $running -ge $parallel ]]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait
echo
echo "Ledger ($ledger), CPU seconds per target:"
awk -F'\t' 'NR > 1 { s[$2] += $3; r[$2] += $4 } END { for (t in s) printf "  %-22s %6d s  %12d runs\n", t, s[t], r[t] }' \
  "$ledger" | sort

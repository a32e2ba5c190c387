#!/usr/bin/env bash
# CPU per committed transaction, this checkout against another (e.g. 0.1.0), interleaved in one session:
# for each of RUNS rounds, for each rate, one bench:testnet run of the other checkout then one of this one,
# so both see the same host conditions. Each run writes OUT_DIR/{base,new}-RATE-N.json (bench/testnet.ts
# JSON: cpuMicrosPerTx, verifyEquivalentsPerTx with its CPU-time calibration before and after the run,
# transport per committed transaction, load average at the start). docs/performance.md, "CPU per
# committed transaction", explains the figures; the medians are what the tables report.
#
#   bench/cpu-vs-base.sh BASE_REPO OUT_DIR [RATES=3000,5000] [RUNS=3] [DURATION=30]
#
# Never run two benchmarks at once on a 2-core host.
set -euo pipefail
base_repo=${1:?usage: bench/cpu-vs-base.sh BASE_REPO OUT_DIR [RATES] [RUNS] [DURATION]}
out=${2:?usage: bench/cpu-vs-base.sh BASE_REPO OUT_DIR [RATES] [RUNS] [DURATION]}
rates=${3:-3000,5000}
runs=${4:-3}
duration=${5:-30}
here=$(cd "$(dirname "$0")/.." && pwd)
# The project's node (24, in node_modules), as npm run uses it.
export PATH="$here/node_modules/.bin:$PATH"
mkdir -p "$out"
cd "$here"
for i in $(seq 1 "$runs"); do
  for rate in ${rates//,/ }; do
    for v in base new; do
      repo=$here
      [ "$v" = base ] && repo=$base_repo
      echo "== $v $rate run $i $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
      npm run -s bench:testnet -- --skip-steps --duration "$duration" --repeat 1 --warmup 5 --load "$rate" \
        --batch-submit --repo "$repo" --out "$out/$v-$rate-$i.json" >/dev/null
    done
  done
done
node "$here/bench/cpu-table.ts" "$out"

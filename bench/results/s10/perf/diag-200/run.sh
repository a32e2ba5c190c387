#!/usr/bin/env bash
# Diagnostic (perf, session 10): 200 tx/s testnet from a snapshot, scrape consensus compact metrics at ~30 s.
set -u
snap=$1; dir=$2; port=$3
export PATH=$snap/node_modules/.bin:$PATH
cd "$snap"
node bin/ordo.js testnet up --load 200 --batch-submit --duration 30 --warmup 5 --dir "$dir" --base-port "$port" --dashboard 0 > "$dir.log" 2>&1 &
pid=$!
sleep 33
for i in 0 1 2 3; do
  echo "== node$i"; curl -s "http://127.0.0.1:$((port + 10 * i))/metrics" | grep -E "^ordo_consensus_(compact|proposals_sent|round |proposals_missed)|^ordo_consensus_commits_total" 
done
wait $pid
grep -h "compact" "$dir"/nodes/*/node.log 2>/dev/null | head -5
tail -5 "$dir.log"

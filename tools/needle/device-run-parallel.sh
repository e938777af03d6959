#!/usr/bin/env bash
# The needle benchmark in Node (Dawn) on the GPU machine as N processes sharing the card: the
# needle model is small enough that one process leaves the GPU mostly idle (its time goes to
# dispatch and submit latency), so N processes finish N times more streams in a visit. Each process
# runs one shard of the plan (needle-bench --shard i/N, balanced by frames) into its own file under
# bench/results/needle-shards/ and resumes it on the next visit; the report merges them.
#
#   (here)  npm run build:node && ../shared/device/prepare.sh       # then carry .gpu and dist-node
#   (there) bash tools/needle/device-run-parallel.sh [shards] [visit-seconds]
#   (here)  tar xzf <returned shards.tgz>  (puts the shard files back for the next visit), then
#           node dist-node/needle-report.js bench/results/needle-shards/*.json --out-dir bench/needle-gpu
#
# Returns $OUT/shards.tgz (shard files and logs), $OUT/report.tgz (report and heatmaps), $OUT/summary.txt.
set -u
SHARDS=${1:-16}
VISIT_S=${2:-580}
shift 2 2>/dev/null || true
source .gpu/env.sh
nvidia-smi -L
DIR=${NEEDLE_SHARD_DIR:-bench/results/needle-shards}
mkdir -p "$DIR" "$OUT/logs"
# every process stops starting streams in time for the merge, and is stopped if a stream overruns
LEFT=$((VISIT_S - SECONDS - 45))
STOP=$((VISIT_S - SECONDS - 25))
echo "$SHARDS shards, $LEFT s each"
for i in $(seq 0 $((SHARDS - 1))); do
  f="$DIR/shard-$i-of-$SHARDS.json"
  RESUME=()
  [ -f "$f" ] && RESUME=(--resume)
  timeout "$STOP" node dist-node/needle-bench.js --model tools/fixtures/needle-vlm --precision f32 \
    --shard "$i/$SHARDS" --max-seconds "$LEFT" --out "$f" "${RESUME[@]}" "$@" 2> "$OUT/logs/shard-$i.log" &
done
wait
nvidia-smi --query-gpu=name,memory.used,utilization.gpu --format=csv > "$OUT/logs/nvidia-smi.txt" 2>&1
node dist-node/needle-report.js "$DIR"/shard-*-of-"$SHARDS".json --out-dir "$OUT/report" > "$OUT/logs/report.log" 2>&1
tar czf "$OUT/shards.tgz" "$DIR" -C "$OUT" logs
tar czf "$OUT/report.tgz" -C "$OUT" report
for i in $(seq 0 $((SHARDS - 1))); do tail -1 "$OUT/logs/shard-$i.log"; done > "$OUT/summary.txt"
grep -h "kv-4:" "$OUT"/logs/shard-*.log | tail -3 >> "$OUT/summary.txt"
rm -rf "$OUT/logs" "$OUT/report"
cat "$OUT/summary.txt"

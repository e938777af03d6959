#!/usr/bin/env bash
# Same-run before/after benchmark of two builds on the GPU machine: the kernel suite, the model
# forward pass (SmolVLM2-256M shapes, random weights) and the streaming engine (1 minute at 1 frame/s,
# 4-bit memory), each build's run back to back and the pairs interleaved (before, after, before,
# after), so clock ramps and neighbours hit both alike. Each run's last stdout line is its JSON.
#
#   (here)  git worktree add /tmp/before <rev> && (cd /tmp/before && npm ci && npm run build:node)
#           mkdir -p .before && cp -r /tmp/before/dist-node .before/   # carry .before, dist-node, .gpu
#   (there) bash tools/bench/before-after.sh .before/dist-node dist-node "$OUT/before-after.jsonl"
set -u
BEFORE=$1
AFTER=$2
OUTFILE=$3
source .gpu/env.sh
# BUDGET_S (default 240): no run starts after it; each run is cut at 150 s
run() { # label build args...
  local label=$1 build=$2; shift 2
  local line
  if (( SECONDS > ${BUDGET_S:-240} )); then echo "$label $build skipped (budget)"; return; fi
  line=$(timeout 150 node "$build/$@" 2>/tmp/ba-err.log | tail -1)
  if [[ $line == \{* ]]; then echo "{\"run\":\"$label\",\"build\":\"$build\",\"result\":$line}" >> "$OUTFILE"; else echo "{\"run\":\"$label\",\"build\":\"$build\",\"failed\":$(tail -c 300 /tmp/ba-err.log | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')}" >> "$OUTFILE"; fi
  echo "$label $build done at ${SECONDS}s"
}
for round in 1 2; do
  for b in "$BEFORE" "$AFTER"; do run "model-$round" "$b" model.js --quick; done
done
for round in 1 2; do
  for b in "$BEFORE" "$AFTER"; do run "stream-$round" "$b" stream.js --mode memory --minutes 1 --quick; done
done
for b in "$BEFORE" "$AFTER"; do run kernels "$b" bench.js --quick; done

#!/usr/bin/env bash
# Same-run before/after benchmark of two builds on the GPU machine: the kernel suite, the model
# forward pass (SmolVLM2-256M shapes, random weights) and the streaming engine (1 minute at 1 frame/s,
# 4-bit memory). The runs of a pair go in ABBA order (before, after, after, before), so that a clock
# ramp or a warm cache favours neither build. Each run's last stdout line is its JSON.
#
#   (here)  git worktree add /tmp/before <rev> && (cd /tmp/before && npm ci && npm run build:node)
#           mkdir -p .before && cp -r /tmp/before/dist-node .before/   # carry .before/dist-node, dist-node, .gpu
#   (there) bash tools/bench/before-after.sh .before/dist-node dist-node "$OUT/before-after.jsonl"
# Environment: SIZE=quick (tiny shapes, the first run of 2026-12-06) or SIZE=full (real sizes: the
# kernel suite's full sizes and the 256M model; the default); PARTS="kernels model stream" (which
# pairs, in order); BUDGET_S (default 540): no run starts after it; each run is cut at RUN_S (240 s).
set -u
BEFORE=$1
AFTER=$2
OUTFILE=$3
source .gpu/env.sh
SIZE=${SIZE:-full}
# each run's stderr (progress, e.g. the model bench's load time) in LOGDIR/<label>.log
LOGDIR=${LOGDIR:-/tmp/ba-logs}; mkdir -p "$LOGDIR"
Q=(); [ "$SIZE" = quick ] && Q=(--quick)
run() { # label build script args...
  local label=$1 build=$2 script=$3; shift 3
  local line t0=$SECONDS
  if (( SECONDS > ${BUDGET_S:-540} )); then echo "$label $build skipped (budget)"; return; fi
  local err="$LOGDIR/$label.log"
  line=$(timeout "${RUN_S:-240}" node "$build/$script" "$@" 2>"$err" | tail -1)
  if [[ $line == \{* ]]; then echo "{\"run\":\"$label\",\"build\":\"$build\",\"seconds\":$((SECONDS - t0)),\"result\":$line}" >> "$OUTFILE"; else echo "{\"run\":\"$label\",\"build\":\"$build\",\"failed\":$(tail -c 300 "$err" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')}" >> "$OUTFILE"; fi
  echo "$label $build done at ${SECONDS}s"
}
abba() { # label script args...
  local label=$1; shift
  run "$label-1" "$BEFORE" "$@"; run "$label-2" "$AFTER" "$@"; run "$label-3" "$AFTER" "$@"; run "$label-4" "$BEFORE" "$@"
}
for part in ${PARTS:-kernels model stream}; do
  case $part in
    kernels) abba kernels bench.js "${Q[@]}" ;;
    model) abba model model.js "${Q[@]}" ;;
    stream) abba stream stream.js --mode memory --minutes 1 "${Q[@]}" ;;
  esac
done

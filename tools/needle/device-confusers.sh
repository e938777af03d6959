#!/usr/bin/env bash
# The confuser runs of 2026-12-07 on the GPU machine (see train_needle.py's docstring and
# tools/needle/README.md), in three commands of one visit, each under the 10-minute limit:
#
#   SMOKE=0 bash tools/needle/device-confusers.sh start   # (SMOKE=1: a 40-second smoke run first)
#        # run A (from scratch, one run, the whole recipe in 12.5 minutes) in the background, and
#        # run B (stage 5: from the committed model, 2.5 minutes with confusers) in the foreground;
#        # B becomes tools/fixtures/needle-vlm there (with needle-parity.json) for the benchmark
#   cp /tmp/needle-b-out/* tools/fixtures/needle-vlm/ && NEEDLE_SHARD_DIR=bench/results/needle-shards-v3 \
#     bash tools/needle/device-run-parallel.sh 16 560 --first-seed 4000 --configs 4 --baselines window,uniform8
#   bash tools/needle/device-confusers.sh collect  # waits for A, returns both folders and logs
#
# Carry .gpu, dist-node and .debs (python3-num2words, python3-docopt: transformers' SmolVLM
# processor imports num2words). Returns $OUT/needle-b.tgz / needle-a.tgz and the logs.
set -u
source .gpu/env.sh
for f in .debs/*.deb; do dpkg -x "$f" /tmp/pyd; done
export PYTHONPATH=/tmp/pyd/usr/lib/python3/dist-packages PYTHONUNBUFFERED=1
TRAIN=tools/needle/train_needle.py
COMMON=(--steps 20000 --held-streams 600 --jobs 8)
case "${1:-}" in
  start)
    nvidia-smi -L
    # (the smoke run can be skipped with SMOKE=0: the code ran on the card on 2026-12-07, `quick`)
    [ "${SMOKE:-1}" = 0 ] || python3 "$TRAIN" --out /tmp/smoke --log "$OUT/smoke.log" --work /tmp/pool-smoke --steps 40 --batch 16 \
      --train-streams 200 --held-streams 40 --eval-contexts 50 --jobs 16 --init tools/fixtures/needle-vlm \
      --recalled 0.5 --confusers 0.5 > /dev/null
    rc=$?
    [ "${SMOKE:-1}" = 0 ] || { tail -5 "$OUT/smoke.log"; [ "$rc" -le 1 ] || { echo "smoke run failed: rc $rc"; exit 1; }; }
    # A: from scratch, the whole recipe as one run (curriculum, then the full mix with recalled
    # contexts, confusers in the last 40 %), in the background: setsid keeps it past this command
    setsid nohup python3 "$TRAIN" "${COMMON[@]}" --out /tmp/needle-a --log /tmp/needle-a.log --work /tmp/pool-a \
      --batch 128 --lr 6e-4 --train-streams 5000 --recalled 0.5 --confusers 0.5 --confusers-from 0.6 \
      --max-minutes 12.5 > /tmp/needle-a.out 2>&1 < /dev/null &
    # B: stage 5 of the committed recipe (train.sh), from the committed model, into the fixture
    # folder (with needle-parity.json) and train.log
    FROM_STAGE=5 bash tools/needle/train.sh > "$OUT/train-b.out" 2>&1
    echo "B rc $?"; tail -3 "$OUT/train-b.out"
    grep -E "gate|confusers:|not gated|stopped|trained" /tmp/needle-stage5.log
    tar czf "$OUT/needle-b.tgz" tools/fixtures/needle-vlm tools/needle/train.log
    # the next command's working tree is a fresh copy (the committed folder again): keep B in /tmp
    rm -rf /tmp/needle-b-out && cp -r tools/fixtures/needle-vlm /tmp/needle-b-out
    tail -3 /tmp/needle-a.log
    ;;
  quick)
    # one command when the visit is short: B (3 minutes), then the 60-minute cells on it until the
    # command's time is up (shards resume on a later visit: NEEDLE_SHARD_DIR=bench/results/needle-shards-v3)
    nvidia-smi -L
    python3 "$TRAIN" "${COMMON[@]}" --jobs 16 --init tools/fixtures/needle-vlm --out /tmp/needle-b --log /tmp/needle-b.log \
      --work /tmp/pool-b --batch 64 --lr 3e-4 --train-streams 5000 --recalled 0.5 --confusers 0.5 --max-minutes "${B_MINUTES:-3}" > /dev/null
    echo "B rc $?"
    cp /tmp/needle-b.log "$OUT/needle-b.log"
    grep -E "gate|not gated|stopped|trained|Error|error" /tmp/needle-b.log
    [ -f /tmp/needle-b/model.safetensors ] || exit 1
    tar czf "$OUT/needle-b.tgz" -C /tmp needle-b
    # every 60-minute question of the 2026-12-06 run (seeds 3000-3033), its context (the frames the
    # committed model's retrieval restored, and the window) replayed in one pass on both models
    for m in tools/fixtures/needle-vlm /tmp/needle-b; do
      node dist-node/needle-replay.js bench/results/needle-shards-v2/shard-*.json --model "$m" --weights f32 --all --limit 2000 > "$OUT/replay-$(basename $m).txt" 2>&1
      tail -1 "$OUT/replay-$(basename $m).txt"
    done
    LEFT=$((${QUICK_S:-585} - SECONDS))
    if [ "$LEFT" -gt 280 ]; then
      cp /tmp/needle-b/* tools/fixtures/needle-vlm/
      NEEDLE_SHARD_DIR=bench/results/needle-shards-v3 bash tools/needle/device-run-parallel.sh 16 "$LEFT" --first-seed 4000 --lengths 3600 --configs 4 --baselines window,uniform8
    fi
    ;;
  collect)
    for _ in $(seq 1 110); do grep -q "saved /tmp/needle-a" /tmp/needle-a.log 2>/dev/null && break; pgrep -f needle-a >/dev/null || break; sleep 5; done
    cp /tmp/needle-a.log "$OUT/needle-a.log"; cp /tmp/needle-a.out "$OUT/needle-a.out" 2>/dev/null
    grep -E "gate|not gated|stopped|trained|held-out" /tmp/needle-a.log | tail -12
    [ -d /tmp/needle-a ] && tar czf "$OUT/needle-a.tgz" -C /tmp needle-a
    ;;
  *) echo "usage: device-confusers.sh start|collect"; exit 2 ;;
esac

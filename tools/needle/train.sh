#!/usr/bin/env bash
# The committed needle model's recipe: three stages of train_needle.py on the GPU machine (an H100,
# 15.6 minutes of training in all), each from the weights the one before saved. Stage 1 grows the
# contexts by the curriculum and stops short of the gate (colour 63 %, time 33 %); stage 2 trains on
# the full mix; stage 3 anneals at a lower rate. All three logs are in train.log, in order.
# Run from the repository root after `npm run build:node` (the frames come from dist-node/needle-pool.js).
set -euo pipefail
OUT=${1:-tools/fixtures/needle-vlm}
LOG=${2:-tools/needle/train.log}
COMMON=(--steps 20000 --batch 64 --held-streams 600 --jobs 16)
python3 tools/needle/train_needle.py "${COMMON[@]}" --out /tmp/needle-stage1 --log /tmp/needle-stage1.log --lr 6e-4 --train-streams 5000 --max-minutes 6 || true
python3 tools/needle/train_needle.py "${COMMON[@]}" --init /tmp/needle-stage1 --out /tmp/needle-stage2 --log /tmp/needle-stage2.log --lr 4e-4 --train-streams 5000 --max-minutes 7.6 || true
python3 tools/needle/train_needle.py "${COMMON[@]}" --init /tmp/needle-stage2 --out "$OUT" --log /tmp/needle-stage3.log --lr 2e-4 --train-streams 3000 --max-minutes 2
cat /tmp/needle-stage1.log /tmp/needle-stage2.log /tmp/needle-stage3.log > "$LOG"
python3 tools/needle/make_needle_fixtures.py "$OUT"

#!/usr/bin/env bash
# One visit to the GPU machine for the needle instrument: train the model, make transformers'
# parity answers, then run the needle benchmark in Node (Dawn) for whatever time the visit has left.
#
#   (here)  npm run build:node && ../shared/device/prepare.sh
#           mkdir -p .debs && (cd .debs && apt-get download python3-num2words python3-docopt)
#   (there) bash tools/needle/device-run.sh [train-minutes] [visit-seconds]   # carry .gpu, dist-node, .debs
#
# Writes $OUT/train.log, $OUT/parity.log, $OUT/needle-vlm.tgz, $OUT/needle-bench.json, $OUT/bench.log.
# With a committed model (tools/fixtures/needle-vlm/model.safetensors present) it skips training
# and resumes the benchmark from bench/results/needle-node.json when that exists.
set -u
TRAIN_MIN=${1:-6}
VISIT_S=${2:-570}
source .gpu/env.sh
mkdir -p /tmp/pyd
for f in .debs/*.deb; do dpkg -x "$f" /tmp/pyd; done
export PYTHONPATH=/tmp/pyd/usr/lib/python3/dist-packages
nvidia-smi -L
MODEL=tools/fixtures/needle-vlm
if [ ! -f "$MODEL/model.safetensors" ]; then
  python3 tools/needle/train_needle.py --out $MODEL --log "$OUT/train.log" --steps 20000 --batch 64 --lr 6e-4 \
    --train-streams 5000 --held-streams 600 --jobs 16 --max-minutes "$TRAIN_MIN"
  echo "train rc $?"
  python3 tools/needle/make_needle_fixtures.py $MODEL > "$OUT/parity.log" 2>&1
  echo "parity rc $?"
  tail -5 "$OUT/parity.log"
  tar czf "$OUT/needle-vlm.tgz" -C tools/fixtures needle-vlm
fi
RESUME=()
if [ -f bench/results/needle-node.json ]; then cp bench/results/needle-node.json "$OUT/needle-bench.json"; RESUME=(--resume); fi
LEFT=$((VISIT_S - SECONDS - 20))
echo "bench: $LEFT s left"
if [ "$LEFT" -gt 30 ]; then
  node dist-node/needle-bench.js --model $MODEL --precision f32 --max-seconds "$LEFT" --out "$OUT/needle-bench.json" "${RESUME[@]}" 2> "$OUT/bench.log"
  echo "bench rc $?"
  tail -4 "$OUT/bench.log"
fi

#!/usr/bin/env bash
# One visit to the GPU machine for the needle benchmark in Node (Dawn), on the committed model, for
# whatever time the visit has left; a later visit resumes it. (Training the model is train.sh: three
# stages, longer than one command may run.)
#
#   (here)  npm run build:node && ../shared/device/prepare.sh       # then carry .gpu and dist-node
#   (there) bash tools/needle/device-run.sh [visit-seconds]
#   (here)  copy the returned needle-bench.json to bench/results/needle-node.json and commit it
#
# Writes $OUT/needle-bench.json (the results so far, resumed from bench/results/needle-node.json
# when that exists) and $OUT/bench.log.
set -u
VISIT_S=${1:-570}
source .gpu/env.sh
nvidia-smi -L
RESUME=()
if [ -f bench/results/needle-node.json ]; then cp bench/results/needle-node.json "$OUT/needle-bench.json"; RESUME=(--resume); fi
LEFT=$((VISIT_S - SECONDS - 20))
echo "bench: $LEFT s left"
node dist-node/needle-bench.js --model tools/fixtures/needle-vlm --precision f32 --restore-variant --max-seconds "$LEFT" --out "$OUT/needle-bench.json" "${RESUME[@]}" 2> "$OUT/bench.log"
echo "bench rc $?"
tail -4 "$OUT/bench.log"

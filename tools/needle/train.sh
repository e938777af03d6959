#!/usr/bin/env bash
# The committed needle model's recipe: five stages of train_needle.py on the GPU machine, each from
# the weights the one before saved. Stage 1 grows the contexts by the curriculum and stops short of
# the gate (colour 63 %, time 33 %); stage 2 trains on the full mix; stage 3 anneals at a lower rate
# (stages 1–3 on an H100: 15.6 minutes, the model of 2026-12-06). Stage 4 (added after the 60-minute
# benchmark: answers about an hour failed when every needle sat among the restored frames) trains on
# a mix where half the answer-shaped contexts hold their needles among the earlier frames, and gates
# on such contexts too. Stage 5 (added after the replay diagnosis of 2026-12-07: wrong answers about
# an hour came from the common frames retrieval restores beside the needle, the ones the model
# confuses with it) fills half of those contexts' other earlier frames with confusers: common frames
# nearest a needle in the model's own pooled image features (train_needle.py --confusers). The loss
# is the answer's tokens alone in every stage. All logs are in train.log, in order.
# Run from the repository root after `npm run build:node` (the frames come from dist-node/needle-pool.js).
#   bash tools/needle/train.sh [out] [log]          # all five stages, from scratch
#   FROM_STAGE=5 bash tools/needle/train.sh         # stage 5 only, from the model committed before it (stage 4's)
set -euo pipefail
OUT=${1:-tools/fixtures/needle-vlm}
LOG=${2:-tools/needle/train.log}
FROM_STAGE=${FROM_STAGE:-1}
COMMON=(--steps 20000 --batch 64 --held-streams 600 --jobs 16)
STAGE3=/tmp/needle-stage3
STAGE4=/tmp/needle-stage4
case "$FROM_STAGE" in
  1)
    python3 tools/needle/train_needle.py "${COMMON[@]}" --out /tmp/needle-stage1 --log /tmp/needle-stage1.log --lr 6e-4 --train-streams 5000 --max-minutes 6 || true
    python3 tools/needle/train_needle.py "${COMMON[@]}" --init /tmp/needle-stage1 --out /tmp/needle-stage2 --log /tmp/needle-stage2.log --lr 4e-4 --train-streams 5000 --max-minutes 7.6 || true
    python3 tools/needle/train_needle.py "${COMMON[@]}" --init /tmp/needle-stage2 --out "$STAGE3" --log /tmp/needle-stage3.log --lr 2e-4 --train-streams 3000 --max-minutes 2 || true
    cat /tmp/needle-stage1.log /tmp/needle-stage2.log /tmp/needle-stage3.log > "$LOG"
    python3 tools/needle/train_needle.py "${COMMON[@]}" --init "$STAGE3" --out "$STAGE4" --log /tmp/needle-stage4.log --lr 3e-4 --train-streams 5000 --recalled 0.5 --max-minutes 4
    { echo "# stage 4 of 5: from stage 3's weights, lr 3e-4, half the answer-shaped contexts recalled (every needle among the earlier frames), 4 minutes; both gates"; cat /tmp/needle-stage4.log; } >> "$LOG"
    ;;
  5)
    # stage 5 from the committed model (stage 4's weights); the log of stages 1–4 stays the head of train.log
    rm -rf "$STAGE4" && cp -r "$OUT" "$STAGE4"
    sed -i '/^# stage 5/,$d' "$LOG"
    ;;
  *) echo "FROM_STAGE is 1 (from scratch) or 5 (the last stage, from the committed model)"; exit 2 ;;
esac
python3 tools/needle/train_needle.py "${COMMON[@]}" --init "$STAGE4" --out "$OUT" --log /tmp/needle-stage5.log --lr 3e-4 --train-streams 5000 \
  --recalled 0.5 --confusers 0.5 --max-minutes "${STAGE5_MINUTES:-2.5}"
{ echo "# stage 5 of 5: from stage 4's weights, lr 3e-4, half the answer-shaped contexts recalled, half with confusers beside the needles, ${STAGE5_MINUTES:-2.5} minutes — the committed model; both gates"; cat /tmp/needle-stage5.log; } >> "$LOG"
python3 tools/needle/make_needle_fixtures.py "$OUT"

#!/usr/bin/env bash
# Paper 000 at the `paper` and `paper-code` presets on one GPU: the six runs train in parallel,
# each stopped by train.max_minutes if it has not finished its 15,625 steps, then each is
# evaluated on 1,000 test clips (vidis eval), and the judge is trained alongside. Finally the
# model weights are exported as small fp16 model-only files (scripts/export_weights.py) so the
# rest of the tables can be computed elsewhere.
#   bash scripts/gpu_paper000.sh OUTDIR MINUTES
set -u
OUTDIR=${1:-runs/gpu}
MINUTES=${2:-5.5}
mkdir -p "$OUTDIR"
export PYTHONPATH=src PYTHONUNBUFFERED=1 VIDIS_CACHE="$OUTDIR/cache"
nvidia-smi -L; python3 -c "import torch; print('torch', torch.__version__)"; date -u
python3 -m vidis judge train --data moving_mnist --no-progress > "$OUTDIR/judge.log" 2>&1 &
for preset in paper paper-code; do
  for model in frame_vae lstm_vae dvae; do
    python3 -m vidis train --model $model --preset $preset --out "$OUTDIR/$preset/$model" \
      --set train.num_workers=2 --set train.max_minutes="$MINUTES" --no-progress \
      > "$OUTDIR/train-$preset-$model.log" 2>&1 &
  done
done
wait
date -u
for preset in paper paper-code; do
  for model in frame_vae lstm_vae dvae; do
    python3 -m vidis eval "$OUTDIR/$preset/$model" --no-report > "$OUTDIR/eval-$preset-$model.log" 2>&1 &
  done
done
wait
date -u
python3 scripts/export_weights.py "$OUTDIR"

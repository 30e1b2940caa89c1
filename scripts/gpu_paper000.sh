#!/usr/bin/env bash
# Paper 000 at the `paper` and `paper-code` presets on one GPU, tables computed there.
#   bash scripts/gpu_paper000.sh OUTDIR MINUTES
# The six training runs (3 models x 2 presets) share the GPU in parallel, each stopped by
# train.max_minutes=MINUTES if it has not finished its 15,625 steps (on one H100, 2026-11-24, all
# but paper-code dvae finished within 16 minutes); the judge trains beside them.
# Then `vidis reproduce 000` evaluates each preset on 1,000 test clips on the GPU (reusing the
# runs: forward times are the GPU's) and OUTDIR/bundle.tgz collects tables, results, figures,
# reports and training logs (no weights). OUTDIR/DONE marks the end.
set -u
OUTDIR=${1:-runs/gpu}
MINUTES=${2:-20}
mkdir -p "$OUTDIR"
export PYTHONPATH=src PYTHONUNBUFFERED=1 VIDIS_CACHE="$OUTDIR/cache"
{ nvidia-smi -L; python3 -c "import torch; print('torch', torch.__version__)"; date -u; } > "$OUTDIR/env.txt" 2>&1
python3 -m vidis judge train --data moving_mnist --no-progress > "$OUTDIR/judge.log" 2>&1 &
for preset in paper paper-code; do
  for model in frame_vae lstm_vae dvae; do
    python3 -m vidis train --model $model --preset $preset --out "$OUTDIR/$preset/$model" \
      --set train.num_workers=2 --set train.max_minutes="$MINUTES" --no-progress \
      > "$OUTDIR/train-$preset-$model.log" 2>&1 &
  done
done
wait
date -u >> "$OUTDIR/env.txt"
for preset in paper paper-code; do
  python3 -m vidis reproduce 000 --preset $preset --out "$OUTDIR/$preset" --no-progress \
    > "$OUTDIR/reproduce-$preset.log" 2>&1 &
done
wait
date -u >> "$OUTDIR/env.txt"
(cd "$OUTDIR" && tar czf bundle.tgz env.txt ./*.log cache/judges/*.json \
  paper*/table*.md paper*/results.json paper*/report.html paper*/figures paper*/*/log.csv)
touch "$OUTDIR/DONE"

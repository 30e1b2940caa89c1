#!/usr/bin/env bash
# Paper 000 at the `paper` and `paper-code` presets on one GPU, tables computed there, plus
# dvae's labelled departure (`paper-pooled`) judged beside the paper's architecture.
#   bash scripts/gpu_paper000.sh OUTDIR MINUTES
# Not yet run with this plan (written 2026-11-26 for the next session that is lent a GPU).
# The seven training runs (3 models x 2 presets, and dvae paper-pooled) share the GPU in
# parallel, each stopped by train.max_minutes=MINUTES if it has not finished (on one H100,
# 2026-11-24, all but paper-code dvae finished their 15,625 steps within 16 minutes); the
# default Moving MNIST judge trains beside them. Then `vidis reproduce 000` evaluates each preset
# on 1,000 test clips on the GPU (reusing the runs: forward times are the GPU's), and
# `vidis eval --protocol judge --protocol gt_swaps` scores the pooled run. OUTDIR/bundle.tgz collects
# tables, results, figures, reports, metrics and training logs (no weights). OUTDIR/DONE marks
# the end; each run's log.csv says how many steps it reached.
set -u
OUTDIR=${1:-runs/gpu}
MINUTES=${2:-20}
mkdir -p "$OUTDIR"
export PYTHONPATH=src PYTHONUNBUFFERED=1 VIDIS_CACHE="$OUTDIR/cache"
{ nvidia-smi -L; python3 -c "import torch; print('torch', torch.__version__)"; date -u; } > "$OUTDIR/env.txt" 2>&1
python3 -m vidis judge train --data moving_mnist --no-progress > "$OUTDIR/judge.log" 2>&1 &
train() {  # preset model [out]
  python3 -m vidis train --model "$2" --preset "$1" --out "$OUTDIR/${3:-$1}/$2" \
    --set train.num_workers=2 --set train.max_minutes="$MINUTES" --no-progress \
    > "$OUTDIR/train-${3:-$1}-$2.log" 2>&1 &
}
for preset in paper paper-code; do
  for model in frame_vae lstm_vae dvae; do train $preset $model; done
done
train paper-pooled dvae
wait
date -u >> "$OUTDIR/env.txt"
for preset in paper paper-code; do
  python3 -m vidis reproduce 000 --preset $preset --out "$OUTDIR/$preset" --no-progress \
    > "$OUTDIR/reproduce-$preset.log" 2>&1 &
done
python3 -m vidis eval "$OUTDIR/paper-pooled/dvae" --num-clips 1000 --protocol judge --protocol gt_swaps \
  --protocol reconstruction --no-progress > "$OUTDIR/eval-paper-pooled.log" 2>&1 &
wait
date -u >> "$OUTDIR/env.txt"
(cd "$OUTDIR" && tar czf bundle.tgz env.txt ./*.log cache/judges/*.json \
  paper*/table*.md paper*/results.json paper*/report.html paper*/figures paper*/*/log.csv \
  paper-pooled/dvae/metrics.json paper-pooled/dvae/report.html paper-pooled/dvae/figures)
touch "$OUTDIR/DONE"

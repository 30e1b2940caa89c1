#!/usr/bin/env bash
# Paper 000 at the `paper` and `paper-code` presets on one GPU, tables computed there, plus
# dvae's labelled departure (`paper-pooled`) judged beside the paper's architecture.
#   bash scripts/gpu_paper000.sh OUTDIR MINUTES
# Not yet run with this plan on a GPU (written 2026-11-26 for the next session that is lent one;
# tested at `smoke` on the CPU: PRESETS=smoke POOLED=smoke-pooled, tests/test_scripts.py).
# The seven training runs (3 models x 2 presets, and dvae paper-pooled) share the GPU in
# parallel, each stopped by train.max_minutes=MINUTES if it has not finished (on one H100,
# 2026-11-24, all but paper-code dvae finished their 15,625 steps within 16 minutes); the
# default Moving MNIST judge trains beside them. Then `vidis reproduce 000` evaluates each preset
# on NUM_CLIPS (1,000) test clips on the GPU (reusing the runs: forward times are the GPU's), and
# `vidis eval --protocol judge --protocol gt_swaps` scores the pooled run. OUTDIR/bundle.tgz collects
# tables, results, figures, reports, metrics, training logs and judge reports (judges/; no weights). OUTDIR/DONE marks
# the end; each run's log.csv says how many steps it reached.
# Environment (defaults): PRESETS ("paper paper-code"), POOLED (paper-pooled; empty: none),
# NUM_CLIPS (1000), PYTHON (python3).
set -u
OUTDIR=${1:-runs/gpu}
MINUTES=${2:-20}
PRESETS=${PRESETS:-paper paper-code}
POOLED=${POOLED-paper-pooled}
NUM_CLIPS=${NUM_CLIPS:-1000}
PYTHON=${PYTHON:-python3}
VIDIS="$PYTHON -m vidis"
mkdir -p "$OUTDIR"
export PYTHONPATH=${PYTHONPATH:-src} PYTHONUNBUFFERED=1 VIDIS_CACHE=${VIDIS_CACHE:-$OUTDIR/cache}
{ nvidia-smi -L 2>/dev/null || echo "no GPU"; $PYTHON -c "import torch; print('torch', torch.__version__)"
  echo "command: $0 $*"; echo "presets: $PRESETS ${POOLED:-}"; date -u; } > "$OUTDIR/env.txt" 2>&1
case "$PRESETS" in  # smoke runs are scored by the quick judge, trained when first used
  smoke*) ;;
  *) $VIDIS judge train --data moving_mnist --no-progress > "$OUTDIR/judge.log" 2>&1 & ;;
esac
# every run's settings; `reproduce` is given them too, so it reuses the runs (a run stopped at its
# time limit counts as finished) instead of refusing them as trained with other settings
SETTINGS=(--set train.num_workers=2 --set train.max_minutes="$MINUTES")
train() {  # preset model
  $VIDIS train --model "$2" --preset "$1" --out "$OUTDIR/$1/$2" "${SETTINGS[@]}" --no-progress \
    > "$OUTDIR/train-$1-$2.log" 2>&1 &
}
for preset in $PRESETS; do
  for model in frame_vae lstm_vae dvae; do train "$preset" $model; done
done
[ -n "$POOLED" ] && train "$POOLED" dvae
wait
date -u >> "$OUTDIR/env.txt"
for preset in $PRESETS; do
  $VIDIS reproduce 000 --preset "$preset" --out "$OUTDIR/$preset" --num-clips "$NUM_CLIPS" "${SETTINGS[@]}" \
    --no-progress > "$OUTDIR/reproduce-$preset.log" 2>&1 &
done
[ -n "$POOLED" ] && $VIDIS eval "$OUTDIR/$POOLED/dvae" --num-clips "$NUM_CLIPS" --protocol judge \
  --protocol gt_swaps --protocol reconstruction --no-progress > "$OUTDIR/eval-$POOLED.log" 2>&1 &
wait
date -u >> "$OUTDIR/env.txt"
mkdir -p "$OUTDIR/judges" && cp "$VIDIS_CACHE"/judges/*.json "$OUTDIR/judges/" 2>/dev/null
(
  cd "$OUTDIR" || exit 1
  shopt -s nullglob
  files=(env.txt ./*.log judges/*.json)
  for preset in $PRESETS; do
    files+=("$preset"/table*.md "$preset"/results.json "$preset"/report.html "$preset"/figures "$preset"/*/log.csv)
  done
  [ -n "$POOLED" ] && files+=("$POOLED"/dvae/metrics.json "$POOLED"/dvae/report.html "$POOLED"/dvae/figures \
    "$POOLED"/dvae/log.csv)
  tar czf bundle.tgz "${files[@]}"
)
touch "$OUTDIR/DONE"

#!/usr/bin/env bash
# Paper 000 at the `paper` and `paper-code` presets on one GPU, tables computed there, plus
# dvae's labelled departure (`paper-pooled`) judged beside the paper's architecture.
#   bash scripts/gpu_paper000.sh OUTDIR MINUTES
# Tested at `smoke` on the CPU (PRESETS=smoke POOLED=smoke-pooled, tests/test_scripts.py). On one
# H200 (2026-11-27, PRESETS="paper paper-code" POOLED=, 3.63 minutes) the six runs trained, then
# the evaluations had not finished 3.3 minutes later (CPU-bound, GPU idle): since then ground-truth
# swaps are scored on the GPU, the evaluations share the cores, and each model's evaluation time is
# printed. Later that day (PRESETS=paper POOLED= WEIGHTS=1 EXTRA_SET=train.amp=bf16, through the
# session script) the three `paper` runs trained all 15,625 steps in 349 s and the evaluation took
# 27 s: results/paper000/paper-h200/. In a GPU session call it through
# scripts/gpu_paper000_session.sh (check, deadline).
# The seven training runs (3 models x 2 presets, and dvae paper-pooled) share the GPU in
# parallel, each stopped by train.max_minutes=MINUTES if it has not finished (on one H100,
# 2026-11-24, all but paper-code dvae finished their 15,625 steps within 16 minutes); the
# default Moving MNIST judge trains beside them. Then `vidis reproduce 000` evaluates each preset
# on NUM_CLIPS (1,000) test clips on the GPU (reusing the runs: forward times are the GPU's), and
# `vidis eval --protocol judge --protocol gt_swaps` scores the pooled run. OUTDIR/bundle.tgz collects
# tables, results, figures, reports, metrics, training logs and judge reports (judges/; no weights). OUTDIR/DONE marks
# the end (a run stopped by TERM or INT bundles what exists and exits 124); each run's log.csv
# says how many steps it reached.
# Environment (defaults): PRESETS ("paper paper-code"), POOLED (paper-pooled; empty: none),
# NUM_CLIPS (1000), PYTHON (python3), EXTRA_SET (more --set values for every run, space-separated),
# CPU_RETRY (1: a `reproduce` that fails on the GPU runs again with --device cpu; 0: not),
# WEIGHTS (0; 1: once training ends, each run's weights rounded to fp16 (scripts/export_weights.py)
# are split into parts of at most 15 MiB, OUTDIR/weights/PRESET-MODEL.fp16.partNN, before the
# evaluation; where the call brings them back, `export_weights.py ROOT --restore --parts DIR`, with
# ROOT the unpacked bundle, makes runs that `reproduce --reuse` evaluates).
set -u
OUTDIR=${1:-runs/gpu}
MINUTES=${2:-20}
PRESETS=${PRESETS:-paper paper-code}
POOLED=${POOLED-paper-pooled}
NUM_CLIPS=${NUM_CLIPS:-1000}
PYTHON=${PYTHON:-python3}
CPU_RETRY=${CPU_RETRY:-1}
VIDIS="$PYTHON -m vidis"
mkdir -p "$OUTDIR"
export PYTHONPATH=${PYTHONPATH:-src} PYTHONUNBUFFERED=1 VIDIS_CACHE=${VIDIS_CACHE:-$OUTDIR/cache}
{ nvidia-smi -L 2>/dev/null || echo "no GPU"; $PYTHON -c "import torch; print('torch', torch.__version__)"
  echo "command: $0 $*"; echo "presets: $PRESETS ${POOLED:-}"; date -u; } > "$OUTDIR/env.txt" 2>&1
bundle() {  # what the runs have written so far -> OUTDIR/bundle.tgz (also when stopped early)
  mkdir -p "$OUTDIR/judges" && cp "$VIDIS_CACHE"/judges/*.json "$OUTDIR/judges/" 2>/dev/null
  (
    cd "$OUTDIR" || exit 1
    shopt -s nullglob
    files=(env.txt ./*.log judges/*.json)
    for preset in $PRESETS; do
      files+=("$preset"/table*.md "$preset"/results.json "$preset"/report.html "$preset"/figures "$preset"/*/log.csv
        "$preset"/*/config.json)
    done
    [ -n "$POOLED" ] && files+=("$POOLED"/dvae/metrics.json "$POOLED"/dvae/report.html "$POOLED"/dvae/figures \
      "$POOLED"/dvae/log.csv)
    existing=(); for f in "${files[@]}"; do [ -e "$f" ] && existing+=("$f"); done
    tar czf bundle.tgz "${existing[@]}"
  )
}
stopped() {  # TERM or INT (`timeout` at a session's deadline signals the whole group, the script twice)
  trap '' TERM INT
  echo "stopped early: $(date -u)" >> "$OUTDIR/env.txt"
  for p in $(jobs -p); do pkill -P "$p"; kill "$p"; done 2>/dev/null  # the runs and their workers
  bundle
  exit 124
}
trap stopped TERM INT
case "$PRESETS" in  # smoke runs are scored by the quick judge, trained when first used
  smoke*) ;;
  *) $VIDIS judge train --data moving_mnist --no-progress > "$OUTDIR/judge.log" 2>&1 & ;;
esac
# every run's settings; `reproduce` is given them too, so it reuses the runs (a run stopped at its
# time limit counts as finished) instead of refusing them as trained with other settings
SETTINGS=(--set train.num_workers=2 --set train.max_minutes="$MINUTES")
for kv in ${EXTRA_SET:-}; do SETTINGS+=(--set "$kv"); done  # e.g. "train.steps=30": a short check
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
if [ "${WEIGHTS:-0}" = 1 ]; then  # fp16 weights in parts under 16 MiB (a device call returns no larger file)
  mkdir -p "$OUTDIR/weights"
  for preset in $PRESETS; do
    $PYTHON "$(dirname "$0")/export_weights.py" "$OUTDIR/$preset" >> "$OUTDIR/weights.log" 2>&1
    for f in "$OUTDIR/$preset"/*/checkpoints/model_fp16.pt; do
      [ -f "$f" ] || continue
      model=$(basename "$(dirname "$(dirname "$f")")")
      split -b 15m -d "$f" "$OUTDIR/weights/$preset-$model.fp16.part"
    done
  done
  date -u >> "$OUTDIR/env.txt"
fi
# the evaluations run side by side: each gets its share of the cores (two processes of 2 threads on
# 2 cores took 2.1x as long per SSIM batch as of 1 thread each, 2026-11-27; GPU idle meanwhile)
EVALS=$(wc -w <<< "$PRESETS"); [ -n "$POOLED" ] && EVALS=$((EVALS + 1))
THREADS=$(( $(nproc) / EVALS )); export OMP_NUM_THREADS=$(( THREADS > 0 ? THREADS : 1 ))
reproduce() {  # preset; where the GPU evaluation fails, again on the CPU (the log of each is kept)
  $VIDIS reproduce 000 --preset "$1" --out "$OUTDIR/$1" --num-clips "$NUM_CLIPS" "${SETTINGS[@]}" \
    --no-progress > "$OUTDIR/reproduce-$1.log" 2>&1 && return
  [ "$CPU_RETRY" = 1 ] || return 1
  echo "reproduce $1 failed (reproduce-$1.log); again with --device cpu: $(date -u)" >> "$OUTDIR/env.txt"
  $VIDIS reproduce 000 --preset "$1" --out "$OUTDIR/$1" --num-clips "$NUM_CLIPS" "${SETTINGS[@]}" \
    --device cpu --no-progress > "$OUTDIR/reproduce-$1-cpu.log" 2>&1
}
for preset in $PRESETS; do reproduce "$preset" & done
[ -n "$POOLED" ] && $VIDIS eval "$OUTDIR/$POOLED/dvae" --num-clips "$NUM_CLIPS" --protocol judge \
  --protocol gt_swaps --protocol reconstruction --no-progress > "$OUTDIR/eval-$POOLED.log" 2>&1 &
wait
date -u >> "$OUTDIR/env.txt"
bundle
touch "$OUTDIR/DONE"

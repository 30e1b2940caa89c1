#!/usr/bin/env bash
# The leaderboard at a GPU preset, as much of it as one call on one lent GPU allows.
#   bash scripts/gpu_leaderboard.sh OUTDIR [PRESET] [STEPS] [TRAIN_MINUTES]
# e.g. `bash scripts/gpu_leaderboard.sh "$OUT/lb" paper 2000 6` on a lent H100/H200, then copy
# OUTDIR/lb/{leaderboard.md,leaderboard.csv,leaderboard.json,report.html,*/figures} to
# results/leaderboard/paper/ with env.txt's date, GPU and command.
#
# Every (model, dataset) pair trains in its own `vidis leaderboard --models M --data D` process,
# all at once on the one GPU and sharing OUTDIR/lb (each pair has its own run folder; a run folder
# is locked while it trains), each with the same budget: STEPS steps x the preset's batch size
# (`--steps`; the table states it). A pair still training after TRAIN_MINUTES is stopped and
# stays "not yet run" (a later call with the same OUTDIR resumes it); the default judges train
# beside them. Then one `--no-train` call scores every finished pair on the GPU and writes the
# tables. OUTDIR/bundle.tgz collects tables, report, figures, logs and judge reports (no
# weights); OUTDIR/DONE marks the end. Tested at `smoke` on the CPU (tests/test_scripts.py);
# not yet run on a GPU (written 2026-11-26).
set -u
OUTDIR=${1:-runs/gpu-leaderboard}
PRESET=${2:-paper}
STEPS=${3:-2000}
MINUTES=${4:-6}
MODELS=${MODELS:-avlae drsvg dvae factored_vae frame_vae lstm_vae slow_vae svg_lp vae002 vdsm}
DATASETS=${DATASETS:-moving_mnist sprites}
PYTHON=${PYTHON:-python3}
VIDIS="$PYTHON -m vidis"
mkdir -p "$OUTDIR/logs"
export PYTHONPATH=${PYTHONPATH:-src} PYTHONUNBUFFERED=1 VIDIS_CACHE=${VIDIS_CACHE:-$OUTDIR/cache}
{ nvidia-smi -L 2>/dev/null || echo "no GPU"; $PYTHON -c "import torch; print('torch', torch.__version__)"
  echo "command: $0 $*"; echo "models: $MODELS"; echo "datasets: $DATASETS"; date -u; } > "$OUTDIR/env.txt" 2>&1
if [ "$PRESET" != smoke ]; then  # the default judges (smoke pairs use the quick one, trained when scored)
  for data in $DATASETS; do
    $VIDIS judge train --data "$data" --no-progress > "$OUTDIR/logs/judge-$data.log" 2>&1 &
  done
fi
for model in $MODELS; do
  for data in $DATASETS; do
    timeout --signal=INT "$((MINUTES * 60))" $VIDIS leaderboard --preset "$PRESET" --steps "$STEPS" \
      --models "$model" --data "$data" --out "$OUTDIR/lb" --no-progress \
      > "$OUTDIR/logs/$model-$data.log" 2>&1 &
  done
done
wait
date -u >> "$OUTDIR/env.txt"
datasets=$(echo $DATASETS | tr ' ' ',')
models=$(echo $MODELS | tr ' ' ',')
$VIDIS leaderboard --preset "$PRESET" --steps "$STEPS" --models "$models" --data "$datasets" \
  --out "$OUTDIR/lb" --no-train --no-progress > "$OUTDIR/logs/tables.log" 2>&1
echo "tables: exit $?" >> "$OUTDIR/env.txt"
date -u >> "$OUTDIR/env.txt"
(cd "$OUTDIR" && tar czf bundle.tgz env.txt logs cache/judges/*.json lb/leaderboard.* lb/report.html \
  lb/*/figures lb/*/*/log.csv lb/*/*/config.json lb/*/*/leaderboard_eval.json 2>/dev/null)
touch "$OUTDIR/DONE"

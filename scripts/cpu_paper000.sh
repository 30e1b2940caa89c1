#!/usr/bin/env bash
# Paper 000 at the `paper` preset on a CPU, over as many sittings as it takes:
#   bash scripts/cpu_paper000.sh RUNS MINUTES
# Each call trains (or resumes) RUNS/dvae, RUNS/frame_vae and RUNS/lstm_vae in that order, one at
# a time with every core, bf16 autocast, until MINUTES are spent: a run cut by the clock is
# checkpointed at that step and the next call resumes it (exactly). Once all three have trained
# every step, `vidis reproduce 000 --preset paper --out RUNS --reuse` writes Tables 1-2, figures
# and report.html from them, and RUNS/DONE marks the end. Ctrl-C or SIGTERM saves the running
# model at its step. On the project's 2-core CPU (2026-11-27) dvae took 0.8-0.9 s per step and
# frame_vae 0.75 (15,625 steps: 3.5-4 hours each). RUNS must outlive the sittings: on this
# project's machines a folder outside the repository was gone at the next session (2026-11-27), and
# the three `paper` runs were then trained on a GPU instead (results/paper000/paper-h200/).
# Environment (defaults): PRESET (paper), PYTHON (python3), NUM_CLIPS (1000).
set -euo pipefail
RUNS=${1:?usage: bash scripts/cpu_paper000.sh RUNS MINUTES}
MINUTES=${2:?usage: bash scripts/cpu_paper000.sh RUNS MINUTES}
PRESET=${PRESET:-paper}
PYTHON=${PYTHON:-python3}
NUM_CLIPS=${NUM_CLIPS:-1000}
VIDIS=("$PYTHON" -m vidis)
if ! [[ "$MINUTES" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  echo "cpu_paper000.sh: MINUTES must be a number of minutes, e.g. 90; got '$MINUTES'" >&2
  exit 2
fi
END=$(( $(date +%s) + $(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 }') ))  # seconds since the epoch

steps_of() {  # run folder -> "STEP STEPS" of its last checkpoint ("0 0" without one)
  "$PYTHON" - "$1" <<'EOF'
import sys
from pathlib import Path

from vidis.train.checkpoint import checkpoint_path, read_checkpoint
from vidis.train.spec import RunSpec

run = Path(sys.argv[1])
last = checkpoint_path(run)
print(f"{read_checkpoint(last)['step']} {RunSpec.load(run).train.steps}" if last.exists() else "0 0")
EOF
}
minutes_left() { awk -v s=$(( END - $(date +%s) )) 'BEGIN { printf "%.2f", s / 60 }'; }

mkdir -p "$RUNS"
for model in dvae frame_vae lstm_vae; do
  run="$RUNS/$model"
  read -r step steps < <(steps_of "$run")
  if [ "$steps" -gt 0 ] && [ "$step" -ge "$steps" ]; then
    echo "$model: all $steps steps trained"
    continue
  fi
  left=$(minutes_left)
  if awk -v m="$left" 'BEGIN { exit !(m < 1) }'; then
    echo "out of time: $model at step $step; run this script again"
    exit 0
  fi
  if [ "$steps" -gt 0 ]; then
    "${VIDIS[@]}" train --resume "$run" --set train.max_minutes="$left" --no-progress
  else  # a folder without a checkpoint holds nothing to keep
    overwrite=(); [ -e "$run" ] && overwrite=(--overwrite)
    "${VIDIS[@]}" train --model "$model" --preset "$PRESET" --out "$run" "${overwrite[@]}" \
      --set train.amp=bf16 --set train.max_minutes="$left" --no-progress
  fi
  read -r step steps < <(steps_of "$run")
  if [ "$step" -lt "$steps" ]; then
    echo "$model stopped at step $step of $steps; run this script again"
    exit 0
  fi
done
"${VIDIS[@]}" reproduce 000 --preset "$PRESET" --out "$RUNS" --reuse --num-clips "$NUM_CLIPS" --no-progress
date -u > "$RUNS/DONE"

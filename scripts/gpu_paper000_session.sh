#!/usr/bin/env bash
# One device call of a GPU session for paper 000: a short check on the GPU, then
# scripts/gpu_paper000.sh sized to end before DEADLINE, then the bundle (partial if the deadline hit).
#   bash scripts/gpu_paper000_session.sh BUNDLE_DIR      (on the device: BUNDLE_DIR=$OUT)
# 1. CHECK (default: the CUDA tests of `reproduce 000` at paper and paper-code, 4 steps, 20 clips)
#    must pass, else the call ends there with the failing output (and costs little device time).
# 2. Training minutes = (DEADLINE - time so far - 40 s start - EVAL_S) / 60, at most MAX_MINUTES.
# 3. BUNDLE_DIR/bundle.tgz: tables, results, figures, reports, logs; BUNDLE_DIR/env.txt; logs.tgz
#    (nvsmi.log, check.log); with WEIGHTS=1 the runs' fp16 weights in parts (gpu_paper000.sh).
# Environment (defaults): DEADLINE (560 s from the start of this script; give the call 600),
# EVAL_S (150: evaluation and bundle), MAX_MINUTES (20), JUDGES (.devcarry/judges: cached judge
# .pt/.json copied into the cache, so the default judge is not retrained there; missing: trained),
# CHECK, WORK (/tmp/gpu000), and gpu_paper000.sh's PRESETS (paper paper-code), POOLED (none), PYTHON.
# On 2026-11-27 (one H200): six runs sharing the GPU trained 3,649-5,347 steps in 3.63 minutes
# (about 18-24 steps/s each, GPU 95% busy); results/paper000/README.md has the account. The same
# day, `PRESETS=paper POOLED= WEIGHTS=1 DEADLINE=570 EVAL_S=45 EXTRA_SET=train.amp=bf16` with a
# 17-second CHECK (three 20-step smoke trainings on CUDA) trained the three `paper` runs to the
# end in 349 s, evaluated them in 27 s and returned their fp16 weights (results/paper000/paper-h200).
set -u
T0=$(date +%s)
BUNDLE=${1:?usage: gpu_paper000_session.sh BUNDLE_DIR}
DEADLINE=${DEADLINE:-560}
EVAL_S=${EVAL_S:-150}
MAX_MINUTES=${MAX_MINUTES:-20}
WORK=${WORK:-/tmp/gpu000}
PYTHON=${PYTHON:-python3}
CHECK=${CHECK:-$PYTHON -m pytest -q -x -p no:cacheprovider tests/test_cuda.py -k "test_reproduce_paper000 and not smoke"}
export VIDIS_DEBUG=1 VIDIS_CACHE=${VIDIS_CACHE:-$WORK/cache} PYTHON POOLED=${POOLED:-}
mkdir -p "$BUNDLE" "$VIDIS_CACHE/judges" && BUNDLE=$(cd "$BUNDLE" && pwd)
cp "${JUDGES:-.devcarry/judges}"/* "$VIDIS_CACHE/judges/" 2>/dev/null
(nvidia-smi --query-gpu=timestamp,name,memory.used,utilization.gpu --format=csv -l 15 > "$BUNDLE/nvsmi.log" 2>&1 &)
if ! timeout 240 bash -c "$CHECK" > "$BUNDLE/check.log" 2>&1; then
  echo "CHECK FAILED after $(( $(date +%s) - T0 )) s: $CHECK"; tail -n 60 "$BUNDLE/check.log"
  pkill -f "nvidia-smi --query" ; exit 1
fi
E=$(( $(date +%s) - T0 ))
M=$(awk -v e="$E" -v d="$DEADLINE" -v v="$EVAL_S" -v x="$MAX_MINUTES" \
  'BEGIN { m = (d - e - 40 - v) / 60; if (m > x) m = x; printf "%.2f", m }')
echo "check passed in $E s; training minutes: $M"
if awk -v m="$M" 'BEGIN { exit !(m < 1) }'; then echo "less than a minute left to train: stopping"; exit 1; fi
timeout -k 30 $(( DEADLINE - E )) bash scripts/gpu_paper000.sh "$WORK" "$M"  # bundles even when stopped
echo "gpu_paper000.sh rc=$? after $(( $(date +%s) - T0 )) s"
pkill -f "nvidia-smi --query"
cd "$WORK" || exit 1
[ -f DONE ] || echo "PARTIAL: the deadline came first"
cp bundle.tgz "$BUNDLE/"
cp env.txt "$BUNDLE/" 2>/dev/null
cp weights/* "$BUNDLE/" 2>/dev/null  # WEIGHTS=1: the fp16 weights' parts
(cd "$BUNDLE" && tar czf logs.tgz nvsmi.log check.log && rm nvsmi.log check.log)  # a call returns 8 files at most
for f in ./*/table*.md; do echo "== $f"; cat "$f"; done
grep -h "stopped at\|^training" ./train-*.log; grep -h "^evaluated\|vidis: error" ./reproduce*.log; cat env.txt

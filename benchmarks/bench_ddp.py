"""One process against N processes (torchrun) on this machine: the same run, wall time and clips/s.

    python benchmarks/bench_ddp.py [--model dvae] [--preset small] [--steps 20] [--nproc 2]
        [--threads 2] [--device cpu] [--set SECTION.KEY=VALUE ...]

Runs `vidis train` twice with the same configuration (validation only at the end): once as
one process with `--threads` torch threads, once as `torchrun --standalone --nproc_per_node
N -m vidis train` with `--threads / N` threads per process (the same cores in all), and
reports each run's wall time (the whole command: start-up, data, training, validation,
checkpoint) and the median `clips_per_s` of its log.csv (training only; all processes'
clips). Appends one JSON line (date, command, machine, load averages, every number) to
benchmarks/results/ddp.jsonl.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from results_file import append_result  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "ddp.jsonl"


def train(command: list[str], run_dir: Path, threads: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    load = os.getloadavg()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    with open(run_dir / "log.csv") as f:
        rates = [float(r["value"]) for r in csv.DictReader(f) if r["metric"] == "clips_per_s"]
    return {
        "command": " ".join(command),
        "threads_per_process": threads,
        "wall_seconds": wall,
        "clips_per_s_windows": rates,
        "clips_per_s_median": statistics.median(rates[1:] or rates),  # the first window warms up
        "load_average_before": load,
        "load_average_after": os.getloadavg(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="dvae")
    parser.add_argument("--preset", default="small")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--log-every", type=int, default=5)
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="torch threads in all (split over processes)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    settings = [f"train.steps={args.steps}", f"train.eval_every={args.steps}",
                f"train.log_every={args.log_every}", f"train.device={args.device}",
                "train.tensorboard=false", *args.set]  # fmt: skip
    load_start = os.getloadavg()
    runs = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, nproc in (("1 process", 1), (f"{args.nproc} processes", args.nproc)):
            run_dir = Path(folder) / f"run{nproc}"
            launcher = [sys.executable, "-m", "vidis"]
            if nproc > 1:
                launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                            "--nproc_per_node", str(nproc), "-m", "vidis"]  # fmt: skip
            command = [*launcher, "train", "--model", args.model, "--preset", args.preset,
                       "--out", str(run_dir), "--no-progress",
                       *[item for s in settings for item in ("--set", s)]]  # fmt: skip
            print(f"{name}: {args.steps} steps ...", flush=True)
            runs[name] = train(command, run_dir, max(1, args.threads // nproc))
    one, many = runs["1 process"], runs[f"{args.nproc} processes"]
    record = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if argv is None else " ".join(argv),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "runs": runs,
        "wall_ratio_many_over_one": many["wall_seconds"] / one["wall_seconds"],
        "clips_per_s_ratio_many_over_one": many["clips_per_s_median"] / one["clips_per_s_median"],
        "load_average_start": load_start,
        "load_average_end": os.getloadavg(),
    }
    for name, run in runs.items():
        print(f"{name:<12} wall {run['wall_seconds']:7.1f} s, "
              f"median {run['clips_per_s_median']:7.1f} clips/s "
              f"({run['threads_per_process']} thread(s) per process)")  # fmt: skip
    print(f"load average start {load_start}, end {record['load_average_end']}")
    append_result(args.out, record)
    return record


if __name__ == "__main__":
    main()

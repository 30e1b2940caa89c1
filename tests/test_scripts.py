"""The prepared scripts (GPU sessions, the multi-sitting CPU run of paper 000), run at `smoke` on the CPU."""

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_leaderboard_script_at_smoke(tmp_path):
    out = tmp_path / "gpu"
    env = dict(os.environ, MODELS="frame_vae dvae", DATASETS="moving_mnist", PYTHON=sys.executable)
    env.update(VIDIS_CACHE=str(tmp_path / "cache"), PYTHONPATH=str(ROOT / "src"))
    script = ROOT / "scripts" / "gpu_leaderboard.sh"
    subprocess.run(["bash", str(script), str(out), "smoke", "4", "5"], env=env, check=True, timeout=600)
    assert (out / "DONE").exists()
    rows = json.loads((out / "lb" / "leaderboard.json").read_text())["pairs"]
    assert sorted((r["model"], r["status"]) for r in rows) == [("dvae", "done"), ("frame_vae", "done")]
    with tarfile.open(out / "bundle.tgz") as bundle:
        names = bundle.getnames()
    assert "lb/leaderboard.md" in names and "lb/report.html" in names and "env.txt" in names
    assert "models: frame_vae dvae" in (out / "env.txt").read_text()


@pytest.mark.slow
def test_gpu_paper000_script_at_smoke(tmp_path):
    out = tmp_path / "gpu"
    env = dict(os.environ, PRESETS="smoke", POOLED="smoke-pooled", NUM_CLIPS="16", PYTHON=sys.executable)
    env.update(VIDIS_CACHE=str(tmp_path / "cache"), PYTHONPATH=str(ROOT / "src"))
    script = ROOT / "scripts" / "gpu_paper000.sh"
    subprocess.run(["bash", str(script), str(out), "5"], env=env, check=True, timeout=900)
    assert (out / "DONE").exists()
    assert "Table 2" in (out / "smoke" / "table2.md").read_text()
    pooled = json.loads((out / "smoke-pooled" / "dvae" / "metrics.json").read_text())
    assert pooled["gt_swaps"]["num_clips"] == 16
    with tarfile.open(out / "bundle.tgz") as bundle:
        names = set(bundle.getnames())
    assert {"env.txt", "smoke/table1.md", "smoke/table2.md", "smoke/report.html", "smoke/dvae/log.csv",
            "smoke-pooled/dvae/metrics.json"} <= names
    assert any(n.startswith("judges/") and n.endswith(".json") for n in names)  # the quick judge's report
    assert "presets: smoke smoke-pooled" in (out / "env.txt").read_text()


@pytest.mark.slow
def test_gpu_paper000_session_script_at_smoke(tmp_path):
    """The session wrapper: a failing check ends the call at once; a passing one trains for the
    minutes left before the deadline and bundles the tables."""
    script = str(ROOT / "scripts" / "gpu_paper000_session.sh")
    env = dict(os.environ, PRESETS="smoke", PYTHON=sys.executable, PYTHONPATH=str(ROOT / "src"))
    env.update(VIDIS_CACHE=str(tmp_path / "cache"), WORK=str(tmp_path / "work"), JUDGES=str(tmp_path))
    failed = subprocess.run(["bash", script, str(tmp_path / "b0")], env=dict(env, CHECK="false"),
                            cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert failed.returncode == 1 and "CHECK FAILED" in failed.stdout
    assert not (tmp_path / "work" / "env.txt").exists()  # nothing trained
    env.update(CHECK="true", DEADLINE="200", EVAL_S="90", WEIGHTS="1")
    done = subprocess.run(["bash", script, str(tmp_path / "b1")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=400)  # fmt: skip
    assert "check passed" in done.stdout and "training minutes: " in done.stdout, done.stdout[-2000:]
    assert (tmp_path / "work" / "DONE").exists() and "PARTIAL" not in done.stdout
    with tarfile.open(tmp_path / "b1" / "bundle.tgz") as bundle:
        names = bundle.getnames()
    assert "smoke/table1.md" in names and "smoke/dvae/log.csv" in names and "smoke/dvae/config.json" in names
    returned = sorted(p.name for p in (tmp_path / "b1").iterdir())  # a device call returns 8 files at most
    assert returned == ["bundle.tgz", "env.txt", "logs.tgz", "smoke-dvae.fp16.part00",
                        "smoke-frame_vae.fp16.part00", "smoke-lstm_vae.fp16.part00"]  # fmt: skip
    weights = (tmp_path / "work" / "smoke" / "lstm_vae" / "checkpoints" / "model_fp16.pt").read_bytes()
    assert (tmp_path / "b1" / "smoke-lstm_vae.fp16.part00").read_bytes() == weights


@pytest.mark.slow
def test_gpu_paper000_script_stopped_early_bundles_what_exists(tmp_path):
    """`timeout` at a session's deadline: the runs end, the logs so far are bundled, exit 124."""
    out = tmp_path / "gpu"
    env = dict(os.environ, PRESETS="smoke", POOLED="", PYTHON=sys.executable, PYTHONPATH=str(ROOT / "src"))
    env.update(VIDIS_CACHE=str(tmp_path / "cache"))
    script = str(ROOT / "scripts" / "gpu_paper000.sh")
    stopped = subprocess.run(["timeout", "-k", "30", "25", "bash", script, str(out), "1"], env=env, cwd=ROOT,
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert stopped.returncode == 124 and not (out / "DONE").exists()
    assert "stopped early" in (out / "env.txt").read_text()
    with tarfile.open(out / "bundle.tgz") as bundle:
        names = bundle.getnames()
    assert "smoke/dvae/log.csv" in names and "env.txt" in names and "smoke/table1.md" not in names


@pytest.mark.slow
def test_cpu_paper000_script_resumes_a_cut_run_then_writes_the_tables(tmp_path):
    """A run cut by its clock in an earlier sitting is resumed to its last step, the other two are
    trained, and reproduce writes the tables from the three runs."""
    runs = tmp_path / "runs"
    env = dict(os.environ, PRESET="smoke", NUM_CLIPS="16", PYTHON=sys.executable, OMP_NUM_THREADS="1")
    env.update(VIDIS_CACHE=str(tmp_path / "cache"), PYTHONPATH=str(ROOT / "src"))
    vidis = [sys.executable, "-m", "vidis", "train", "--model", "dvae", "--preset", "smoke", "--no-progress"]
    cut = ["--set", "train.amp=bf16", "--set", "train.max_minutes=0.0001"]  # stops after one step
    subprocess.run([*vidis, "--out", str(runs / "dvae"), *cut], env=env, check=True, timeout=300)
    script = str(ROOT / "scripts" / "cpu_paper000.sh")
    done = subprocess.run(["bash", script, str(runs), "10"], env=env, capture_output=True, text=True,
                          timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resuming from step 1 of" in done.stdout
    assert (runs / "DONE").exists() and "Table 1" in (runs / "table1.md").read_text()
    again = subprocess.run(["bash", script, str(runs), "0"], env=env, capture_output=True, text=True,
                           timeout=900)  # fmt: skip
    assert "dvae: all" in again.stdout and "lstm_vae: all" in again.stdout, again.stdout + again.stderr


def test_cpu_paper000_script_refuses_a_bad_time(tmp_path):
    script = str(ROOT / "scripts" / "cpu_paper000.sh")
    bad = subprocess.run(["bash", script, str(tmp_path / "runs"), "ninety"], capture_output=True, text=True)
    assert bad.returncode == 2 and "MINUTES must be a number of minutes" in bad.stderr
    assert not (tmp_path / "runs").exists()


def test_export_weights_joins_parts_then_restores(tmp_path):
    """Weights split into parts by gpu_paper000.sh WEIGHTS=1 (here by hand) come back as a last.pt
    that holds them in float32 and no optimiser state; a preset with '-' keeps its name."""
    weights = {"w": torch.randn(300, dtype=torch.float32).half(), "n": torch.tensor(3)}
    source = tmp_path / "model_fp16.pt"
    torch.save({"model": weights, "optimizers": {}, "step": 7}, source)
    data = source.read_bytes()
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "paper-code-dvae.fp16.part00").write_bytes(data[:500])
    (parts / "paper-code-dvae.fp16.part01").write_bytes(data[500:])
    script = str(ROOT / "scripts" / "export_weights.py")
    runs = tmp_path / "runs"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run([sys.executable, script, str(runs), "--restore", "--parts", str(parts)],
                          env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    restored = torch.load(runs / "paper-code" / "dvae" / "checkpoints" / "last.pt", weights_only=True)
    assert restored["step"] == 7 and restored["optimizers"] == {}
    assert restored["model"]["w"].dtype == torch.float32
    assert torch.equal(restored["model"]["w"], weights["w"].float())
    assert torch.equal(restored["model"]["n"], weights["n"])
    alone = subprocess.run([sys.executable, script, str(runs), "--parts", str(parts)], env=env,
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert alone.returncode == 2 and "--parts goes with --restore" in alone.stderr

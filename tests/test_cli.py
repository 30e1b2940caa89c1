"""End to end through the CLI: what a user types, what they get, and one-line errors."""

import json
import subprocess
import sys

import pytest

from vidis.cli import main


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "vidis", *args], capture_output=True, text=True)


def test_list_names_models_datasets_presets(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "frame_vae" in out and "moving_mnist" in out and "smoke" in out


def test_train_eval_reconstruct_report(tmp_path, capsys):
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--model",
                "frame_vae",
                "--preset",
                "smoke",
                "--out",
                str(run),
                "--no-progress",
                "--set",
                "train.steps=3",
            ]
        )
        == 0
    )
    assert (run / "checkpoints" / "last.pt").exists() and (run / "config.json").exists()
    assert main(["reconstruct", str(run), "--num", "2", "--device", "cpu"]) == 0
    assert (run / "figures" / "reconstruction.gif").exists()
    assert main(["eval", str(run), "--num-clips", "8", "--batch-size", "4", "--device", "cpu"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["test"]) >= {"mse", "psnr", "ssim", "temporal_consistency"}
    assert metrics["test"]["num_clips"] == 8
    html = (run / "report.html").read_text()
    assert "reconstruction.gif" in html and "ssim" in html
    # resume a finished run for more steps
    assert main(["train", "--resume", str(run), "--no-progress", "--set", "train.steps=4"]) == 0
    assert json.loads((run / "config.json").read_text())["train"]["steps"] == 3  # config kept
    # an existing run is not overwritten by accident
    assert main(["train", "--model", "frame_vae", "--preset", "smoke", "--out", str(run)]) == 2
    assert "already holds a run" in capsys.readouterr().err


def test_data_preview(tmp_path, capsys):
    out = tmp_path / "p.gif"
    assert main(["data", "preview", "--num", "2", "--set", "data.num_frames=4", "--out", str(out)]) == 0
    assert out.exists() and out.with_suffix(".png").exists()
    assert "digit0=" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--model", "nope", "--preset", "smoke", "--out", "x"], "unknown model 'nope'"),
        (
            ["train", "--model", "frame_vae", "--preset", "smoke", "--out", "x", "--set", "model.betta=1"],
            "unknown key 'model.betta'",
        ),
        (
            ["train", "--model", "frame_vae", "--preset", "smoke", "--out", "x", "--set", "train.lr=fast"],
            "train.lr: expected a number",
        ),
        (
            ["train", "--model", "frame_vae", "--preset", "smoke", "--out", "x", "--set", "lr=1"],
            "--set key must start with",
        ),
        (["train", "--model", "frame_vae", "--preset", "smoke"], "--out RUN_DIR"),
        (["eval", "/no/such/run"], "not a vidis run folder"),
        (["data", "preview", "--data", "cifar"], "unknown dataset 'cifar'"),
        (["data", "preview", "--set", "data.num_digits=0"], "num_digits must be >= 1"),
    ],
)
def test_bad_arguments_give_one_clear_line(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("vidis: error:")


def test_argparse_errors_are_one_line():
    result = run_cli("train", "--preset", "huge")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "invalid choice" in result.stderr

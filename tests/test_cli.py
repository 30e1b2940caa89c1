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


def test_swap_interpolate_and_judged_eval(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--model", "dvae", "--preset", "smoke", "--out", str(run), "--no-progress"]) == 0
    assert main(["swap", str(run), "--num", "3", "--device", "cpu"]) == 0
    assert (run / "figures" / "swap.gif").exists() and (run / "figures" / "swap.png").exists()
    for factor in ("content", "motion"):
        assert (
            main(
                ["interpolate", str(run), "--factor", factor, "--num", "2", "--steps", "3", "--device", "cpu"]
            )
            == 0
        )
        assert (run / "figures" / f"interpolate_{factor}.gif").exists()
    assert (
        main(
            [
                "judge",
                "train",
                "--set",
                "data.num_frames=6",
                "--steps",
                "3",
                "--device",
                "cpu",
                "--no-progress",
            ]
        )
        == 0
    )
    assert (
        main(["eval", str(run), "--num-clips", "12", "--batch-size", "6", "--device", "cpu", "--judge"]) == 0
    )
    metrics = json.loads((run / "metrics.json").read_text())
    assert {"content_accuracy", "motion_accuracy", "fd"} <= set(metrics["judge"])
    assert "overall_disentanglement" in metrics["disentanglement"]
    html = (run / "report.html").read_text()
    assert html.index("swap.gif") < html.index("Metrics: test") and "Judge on swaps" in html
    assert main(["swap", str(run), "--num", "0"]) == 2


def test_reproduce_paper000_smoke(tmp_path):
    out = tmp_path / "p000"
    args = [
        "reproduce",
        "000",
        "--preset",
        "smoke",
        "--out",
        str(out),
        "--num-clips",
        "12",
        "--judge-steps",
        "3",
        "--device",
        "cpu",
        "--no-progress",
    ]
    assert main(args) == 0
    table1 = (out / "table1.md").read_text()
    assert "0.8328" in table1 and "12,934,625" in table1  # the paper's numbers beside ours
    table2 = (out / "table2.md").read_text()
    assert "0.2075" in table2 and "Judge" in table2
    results = json.loads((out / "results.json").read_text())
    assert set(results) == {"frame_vae", "lstm_vae", "dvae"}
    assert results["frame_vae"]["temporal_consistency"] == 0  # averaged latents: static clips
    for name in ("swap.gif", "reconstructions.png", "interpolate_content.gif", "interpolate_motion.gif"):
        assert (out / "figures" / name).exists()
    assert (out / "report.html").exists()
    assert main(args) == 0  # a second call reuses the finished runs
    assert main(["reproduce", "999", "--out", str(out)]) == 2

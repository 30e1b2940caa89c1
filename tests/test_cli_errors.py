"""Every wrong input a user can give the CLI ends in one `vidis: error:` line, never a traceback.

Each case builds what it needs (a damaged checkpoint, a booby-trapped pickle, an object .npy, ...)
in a copy of one tiny trained run, calls `vidis.cli.main` and checks: a non-zero exit, exactly
one `vidis: error:` line on stderr, no "Traceback", the expected words, and never a suggestion
to load with `weights_only=False`.
"""

import pickle
import random
import shutil

import numpy as np
import pytest
import torch

from vidis.cli import main
from vidis.errors import VidisError

MARKER = "pickle-code-ran"


class BoobyTrap:
    """Unpickling this creates the file MARKER next to the checkpoint: it must never happen."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("trained") / "run"
    args = ["train", "--model", "frame_vae", "--preset", "smoke", "--out", str(run), "--no-progress"]
    assert main([*args, "--set", "train.steps=2"]) == 0
    return run


def run_main(argv, capsys):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit:  # argparse errors
        code = exit.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _last_pt(run):
    return run / "checkpoints" / "last.pt"


def truncated(run, tmp):
    data = _last_pt(run).read_bytes()
    _last_pt(run).write_bytes(data[: len(data) // 2])
    return ["eval", run, "--device", "cpu", "--num-clips", 4]


def random_bytes(run, tmp):
    _last_pt(run).write_bytes(random.Random(0).randbytes(4096))
    return ["eval", run, "--device", "cpu", "--num-clips", 4]


def booby_trapped_torch_file(run, tmp):
    torch.save({"model": BoobyTrap(run / MARKER), "step": 2, "video_shape": [6, 1, 64, 64]}, _last_pt(run))
    return ["eval", run, "--device", "cpu", "--num-clips", 4]


def booby_trapped_plain_pickle(run, tmp):
    with open(_last_pt(run), "wb") as f:
        pickle.dump(BoobyTrap(run / MARKER), f)
    return ["swap", run, "--device", "cpu", "--num", 2]


def booby_trapped_on_resume(run, tmp):
    torch.save({"model": BoobyTrap(run / MARKER)}, _last_pt(run))
    return ["train", "--resume", run, "--no-progress", "--set", "train.steps=3"]


def tensors_but_not_vidis(run, tmp):
    torch.save({"weights": torch.ones(3)}, _last_pt(run))
    return ["reconstruct", run, "--device", "cpu", "--num", 2]


def object_npy(run, tmp):
    path = tmp / "objects.npy"
    np.save(path, np.array([{"a": 1}] * 4, dtype=object), allow_pickle=True)
    return [
        "data",
        "preview",
        "--data",
        "moving_mnist_file",
        "--set",
        f"data.path={path}",
        "--out",
        tmp / "p.gif",
    ]


def object_npy_train(run, tmp):
    path = tmp / "objects.npy"
    np.save(path, np.array([BoobyTrap(tmp / MARKER)] * 2, dtype=object), allow_pickle=True)
    args = ["train", "--model", "frame_vae", "--preset", "small", "--data", "moving_mnist_file"]
    return [*args, "--set", f"data.path={path}", "--out", tmp / "new", "--no-progress"]


def damaged_config(run, tmp):
    (run / "config.json").write_text("{ not json")
    return ["eval", run, "--device", "cpu"]


def no_checkpoint(run, tmp):
    shutil.rmtree(run / "checkpoints")
    return ["eval", run, "--device", "cpu"]


def no_checkpoint_resume(run, tmp):
    shutil.rmtree(run / "checkpoints")
    return ["train", "--resume", run]


def not_a_run(run, tmp):
    (tmp / "folder").mkdir()
    return ["eval", tmp / "folder"]


def out_is_a_file(run, tmp):
    (tmp / "file").write_text("mine")
    return ["train", "--model", "frame_vae", "--preset", "smoke", "--out", tmp / "file"]


def out_is_someone_elses_folder(run, tmp):
    (tmp / "mine").mkdir()
    (tmp / "mine" / "log.csv").write_text("my own log")
    return ["train", "--model", "frame_vae", "--preset", "smoke", "--out", tmp / "mine"]


def train(*sets):
    def case(run, tmp):
        args = ["train", "--model", "frame_vae", "--preset", "smoke", "--out", tmp / "new", "--no-progress"]
        for item in sets:
            args += ["--set", item]
        return args

    return case


def command(*args):
    def case(run, tmp):
        return [run if a == "RUN" else a for a in args]

    return case


def unexpected_bug(run, tmp):
    import vidis.cli

    def broken(args):
        raise RuntimeError("something vidis did not expect\non two lines")

    vidis.cli.cmd_list = broken  # restored by the test's monkeypatch
    return ["list"]


CASES = [
    (truncated, "last.pt is not a vidis checkpoint or is damaged"),
    (random_bytes, "last.pt is not a vidis checkpoint or is damaged"),
    (booby_trapped_torch_file, "last.pt is not a vidis checkpoint or is damaged"),
    (booby_trapped_plain_pickle, "last.pt is not a vidis checkpoint or is damaged"),
    (booby_trapped_on_resume, "last.pt is not a vidis checkpoint or is damaged"),
    (tensors_but_not_vidis, "last.pt is not a vidis checkpoint (it lacks model, step, video_shape)"),
    (object_npy, "holds Python objects (dtype object)"),
    (object_npy_train, "holds Python objects (dtype object)"),
    (damaged_config, "config.json is damaged or not a vidis run configuration"),
    (no_checkpoint, "has no checkpoint yet"),
    (no_checkpoint_resume, "has no checkpoint to resume from"),
    (not_a_run, "is not a vidis run folder (it has no config.json)"),
    (command("eval", "/no/such/run"), "/no/such/run does not exist"),
    (command("train", "--resume", "/no/such/run"), "/no/such/run does not exist"),
    (out_is_a_file, "is a file"),
    (out_is_someone_elses_folder, "is not empty and is not a vidis run folder"),
    (train("train.lr=-1"), "train.lr must be > 0, got -1.0"),
    (train("train.lr=nan"), "train.lr: expected a finite number, got nan"),
    (train("train.lr=inf"), "train.lr: expected a finite number, got inf"),
    (train("model.beta=inf"), "model.beta: expected a finite number"),
    (train("data.speed_max=nan"), "data.speed_max: expected a finite number"),
    (train("train.num_workers=-1"), "train.num_workers must be >= 0"),
    (train("train.batch_size=0"), "train.batch_size must be >= 1"),
    (train("train.steps=0"), "train.steps must be >= 1"),
    (train("train.grad_clip=-1"), "train.grad_clip must be >= 0"),
    (train("train.weight_decay=-0.1"), "train.weight_decay must be >= 0"),
    (train("train.lr_schedule=linear"), "train.lr_schedule must be one of constant, cosine"),
    (train("train.amp=fp8"), "train.amp must be one of none, bf16"),
    (train("train.device=tpu"), "train.device must be one of auto, cpu, cuda"),
    (command("eval", "RUN", "--num-clips", "0"), "--num-clips: must be >= 1, got 0"),
    (command("eval", "RUN", "--batch-size", "0"), "--batch-size: must be >= 1, got 0"),
    (command("eval", "RUN", "--protocol", "nope"), "unknown protocol 'nope'; available: reconstruction"),
    (command("eval", "RUN", "--protocol", "prediction", "--device", "cpu"), "frame_vae cannot predict"),
    (command("eval", "RUN", "--checkpoint", "best", "--device", "cpu"), "has no checkpoints/best.pt"),
    (command("interpolate", "RUN", "--steps", "0"), "--steps: must be >= 2, got 0"),
    (command("interpolate", "RUN", "--steps", "1"), "--steps: must be >= 2, got 1"),
    (command("interpolate", "RUN", "--factor", "size", "--device", "cpu"), "--factor must be one of"),
    (command("swap", "RUN", "--num", "0"), "--num: must be >= 1, got 0"),
    (command("data", "preview", "--out", "preview.jpg"), "--out must end in .gif or .png"),
    (command("train", "--resume", "RUN", "--preset", "paper"), "takes no --preset"),
    (command("train", "--resume", "RUN", "--overwrite"), "takes no --overwrite"),
    (command("train", "--resume", "RUN", "--model", "dvae"), "takes no --model"),
    (command("train", "--resume", "RUN", "--data", "moving_mnist"), "takes no --data"),
    (command("train", "--resume", "RUN", "--out", "elsewhere"), "takes no --out"),
    (command("train", "--resume", "RUN", "--set", "model.beta=2"), "may only change train.* settings"),
    (command("train", "--model", "dvae", "--preset", "huge", "--out", "x"), "dvae has no preset 'huge'"),
    (command("reproduce", "000", "--out", "x", "--num-clips", "0"), "--num-clips: must be >= 1"),
    (unexpected_bug, "unexpected RuntimeError: something vidis did not expect on two lines"),
]
if not torch.cuda.is_available():
    CASES.append((command("eval", "RUN", "--device", "cuda"), "--device cuda: no CUDA device"))


@pytest.mark.parametrize("make_case, message", CASES, ids=[f"{i}-{c[1][:30]}" for i, c in enumerate(CASES)])
def test_error_is_one_line(make_case, message, trained, tmp_path, capsys, monkeypatch):
    import vidis.cli

    monkeypatch.delenv("VIDIS_DEBUG", raising=False)
    monkeypatch.setattr(vidis.cli, "cmd_list", vidis.cli.cmd_list)  # undone after the test
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    code, out, err = run_main(make_case(run, tmp_path), capsys)
    lines = [line for line in err.splitlines() if line.startswith("vidis: error:")]
    assert code != 0 and len(lines) == 1, err
    assert "Traceback" not in err and "weights_only" not in err
    assert message in lines[0]
    assert not list(tmp_path.rglob(MARKER))  # no pickled code ran
    if make_case is unexpected_bug:
        assert "VIDIS_DEBUG=1" in lines[0] and code == 1
    else:
        assert code == 2


def test_vidis_debug_gives_the_traceback(monkeypatch, capsys):
    monkeypatch.setenv("VIDIS_DEBUG", "1")
    with pytest.raises(VidisError, match="does not exist"):
        main(["eval", "/no/such/run"])


def test_booby_trapped_checkpoint_never_runs_through_the_python_api(tmp_path):
    import vidis
    from vidis.errors import CheckpointError

    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    torch.save({"model": BoobyTrap(tmp_path / MARKER)}, tmp_path / "run" / "checkpoints" / "last.pt")
    from vidis.train.checkpoint import read_checkpoint

    with pytest.raises(CheckpointError, match="not a vidis checkpoint or is damaged"):
        read_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert not (tmp_path / MARKER).exists()
    with pytest.raises(VidisError, match="not a vidis run folder"):
        vidis.load_model(tmp_path / "run")

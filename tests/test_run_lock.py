"""One trainer per run folder: a second process is refused while the first trains, and the lock
goes with the process that held it (vidis.train.run_lock)."""

import subprocess
import sys
import textwrap

import pytest

from vidis.cli import main
from vidis.errors import RunFolderError
from vidis.train.run_lock import LOCK_FILE, acquire_run_lock, release_run_lock
from vidis.train.spec import RunSpec
from vidis.train.trainer import Trainer

SMOKE = ["--model", "frame_vae", "--preset", "smoke", "--no-progress"]


def hold_in_another_process(run_dir):
    """A child process that takes the lock and waits until its stdin closes."""
    code = textwrap.dedent(
        f"""
        import sys
        from vidis.train.run_lock import acquire_run_lock
        acquire_run_lock({str(run_dir)!r})
        print("locked", flush=True)
        sys.stdin.read()
        """
    )
    pipe = subprocess.PIPE
    child = subprocess.Popen([sys.executable, "-c", code], stdin=pipe, stdout=pipe, text=True)
    assert child.stdout.readline().strip() == "locked"
    return child


def test_a_second_process_is_refused_until_the_first_ends(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *SMOKE, "--out", str(run), "--set", "train.steps=2"]) == 0
    assert (run / LOCK_FILE).read_text() == ""  # released (emptied) when training ended
    child = hold_in_another_process(run)
    try:
        assert f"process {child.pid} on " in (run / LOCK_FILE).read_text()
        with pytest.raises(RunFolderError, match=f"is in use: process {child.pid}"):
            Trainer(RunSpec.load(run), run, resume=True, progress=False)
        capsys.readouterr()
        resume = ["train", "--resume", str(run), "--set", "train.steps=4", "--no-progress"]
        assert main(resume) == 2  # the CLI: one line, nothing written
        err = capsys.readouterr().err
        assert err.count("vidis: error:") == 1 and "is in use" in err
        assert "step,split" in (run / "log.csv").read_text() and "\n4," not in (run / "log.csv").read_text()
    finally:
        child.stdin.close()
        child.wait(timeout=30)
    assert main(resume) == 0  # the lock went with the process: no file to delete by hand
    assert "\n4," in (run / "log.csv").read_text()


def test_the_lock_is_reentrant_in_one_process_and_released_by_the_last_holder(tmp_path):
    first = acquire_run_lock(tmp_path)
    assert acquire_run_lock(tmp_path) == first  # a resumed Trainer in the same process
    release_run_lock(first)
    code = f"from vidis.train.run_lock import acquire_run_lock; acquire_run_lock({str(tmp_path)!r})"
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert child.returncode != 0 and "is in use" in child.stderr  # still held once
    release_run_lock(first)
    release_run_lock(first)  # one release too many: nothing to do
    hold_in_another_process(tmp_path).communicate("")  # free now; the child takes and drops it


def test_a_trainer_that_fails_to_start_releases_the_folder_and_leaves_it_usable(tmp_path, monkeypatch):
    run = tmp_path / "run"
    from vidis.models.frame_vae import FrameVAE

    def broken(self, train):
        raise RuntimeError("configure_optimizers failed")

    monkeypatch.setattr(FrameVAE, "configure_optimizers", broken)
    assert main(["train", *SMOKE, "--out", str(run)]) == 1
    assert [p.name for p in run.iterdir()] == [LOCK_FILE]  # only the (released) lock file
    monkeypatch.undo()
    assert main(["train", *SMOKE, "--out", str(run), "--set", "train.steps=2"]) == 0  # --out still usable

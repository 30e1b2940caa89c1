"""scripts/install_torch.py picks the torch build from the machine, probed through parameters:
nothing here touches the network or installs anything."""

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "install_torch.py"
spec = importlib.util.spec_from_file_location("install_torch", SCRIPT)
install_torch = importlib.util.module_from_spec(spec)
sys.modules["install_torch"] = install_torch  # dataclasses look their module up there
spec.loader.exec_module(install_torch)

REAL_DECIDE = install_torch.decide
CPU = ["install", "torch==2.13.0", "--index-url", "https://download.pytorch.org/whl/cpu"]
DEFAULT = ["install", "torch==2.13.0"]


def decide(env=None, gpu=False, system="Linux", installed=None, local=False):
    def never(*args):
        raise AssertionError("this probe should not be needed")

    return REAL_DECIDE(
        env=env or {},
        which=lambda name: "/usr/bin/nvidia-smi" if gpu and name == "nvidia-smi" else None,
        system=system,
        installed=lambda: installed,
        local=(lambda: local) if local is not None else never,
    )


@pytest.mark.parametrize(
    "machine, command",
    [
        (dict(), CPU),  # a user's Linux machine without a GPU: not 3 GB of CUDA packages
        (dict(gpu=True), DEFAULT),  # an NVIDIA GPU: the default (CUDA) build
        (dict(local=True), DEFAULT),  # this project's machine: a local CPU wheel, no index
        (dict(system="Darwin"), DEFAULT),
        (dict(system="Windows"), DEFAULT),
        (dict(installed="2.13.0+cpu", local=None), None),
        (dict(installed="2.13.0", gpu=True, local=None), None),
        (dict(installed="2.12.1"), CPU),  # another version is replaced
        (dict(env={"VIDIS_TORCH_INDEX": "cpu"}, gpu=True, local=None), CPU),
        (dict(env={"VIDIS_TORCH_INDEX": "default"}, local=None), DEFAULT),
        (
            dict(env={"VIDIS_TORCH_INDEX": "https://download.pytorch.org/whl/cu128"}, local=None),
            ["install", "torch==2.13.0", "--index-url", "https://download.pytorch.org/whl/cu128"],
        ),
    ],
)
def test_decision(machine, command):
    decision = decide(**machine)
    assert decision.command == command
    assert decision.reason and decision.build


def test_bad_override_is_refused():
    with pytest.raises(SystemExit, match="VIDIS_TORCH_INDEX must be cpu, default or an index URL"):
        decide(env={"VIDIS_TORCH_INDEX": "gpu"})


def test_dry_run_prints_the_command_and_runs_nothing(monkeypatch, capsys):
    monkeypatch.setattr(install_torch, "decide", lambda: decide())
    monkeypatch.setattr(install_torch.subprocess, "call", lambda *a: pytest.fail("ran a command"))
    assert install_torch.main(["--dry-run"]) == 0
    out = capsys.readouterr().out
    assert (
        "CPU build" in out
        and "-m pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in out
    )


def test_install_runs_the_printed_command(monkeypatch, capsys):
    ran = []
    monkeypatch.setattr(install_torch, "decide", lambda: decide(gpu=True))
    monkeypatch.setattr(install_torch.subprocess, "call", lambda command: ran.append(command) or 0)
    assert install_torch.main([]) == 0
    assert ran and ran[0][1:] == ["-m", "pip", *DEFAULT]
    assert " ".join(ran[0]) in capsys.readouterr().out


def test_makefile_and_readme_use_the_script():
    root = SCRIPT.parents[1]
    assert "scripts/install_torch.py" in (root / "Makefile").read_text()
    assert "scripts/install_torch.py" in (root / "README.md").read_text()

"""Install the torch build that suits this machine, saying what it runs and why.

    python scripts/install_torch.py            # decide, print, install
    python scripts/install_torch.py --dry-run  # decide and print only

A bare `pip install torch==2.13.0` on Linux pulls the CUDA build (about 3 GB of NVIDIA packages)
even on a machine without a GPU. So, in order:

1. `VIDIS_TORCH_INDEX` set: `cpu` (PyTorch's CPU wheel index), `default` (pip's own configuration,
   i.e. PyPI: the CUDA build on Linux) or any index URL. The user's choice wins.
2. torch 2.13.0 already installed in this Python: nothing to do.
3. `nvidia-smi` on the PATH: the default build (CUDA on Linux), `pip install torch==2.13.0`.
4. Not Linux: the default build (PyPI's macOS and Windows wheels are CPU builds already).
5. pip can install torch 2.13.0 from local wheels without any index (its `find-links`, as on a
   machine set up to work offline): the default command, which takes that local wheel.
6. Otherwise (Linux, no NVIDIA GPU): the CPU build from https://download.pytorch.org/whl/cpu.

The script runs with the Python it installs into (e.g. `.venv/bin/python scripts/install_torch.py`).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass

TORCH = "torch==2.13.0"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


@dataclass
class Decision:
    command: list[str] | None  # pip arguments after `python -m pip`; None: nothing to install
    build: str  # what it installs, in words
    reason: str


def installed_torch() -> str | None:
    """The installed torch version (e.g. "2.13.0+cpu"), or None."""
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("torch")
    except PackageNotFoundError:
        return None


def resolves_locally(python: str = sys.executable) -> bool:
    """True when pip finds torch 2.13.0 without any index (in its find-links): no network used."""
    command = [python, "-m", "pip", "install", "--dry-run", "--no-deps", "--no-index", "--quiet", TORCH]
    try:
        return subprocess.run(command, capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def decide(
    env: dict | None = None,
    which=shutil.which,
    system: str | None = None,
    installed=installed_torch,
    local=resolves_locally,
) -> Decision:
    """Which torch build to install, and why (see the module docstring for the order).

    Each probe of the machine is a parameter, so the choice can be tested without a network.
    """
    env = os.environ if env is None else env
    system = system or platform.system()
    install = ["install", TORCH]
    override = env.get("VIDIS_TORCH_INDEX", "").strip()
    if override:
        if override == "cpu":
            return Decision([*install, "--index-url", CPU_INDEX], "CPU build", "VIDIS_TORCH_INDEX=cpu")
        if override == "default":
            return Decision(install, "pip's default build", "VIDIS_TORCH_INDEX=default")
        if "://" in override:
            return Decision(
                [*install, "--index-url", override], f"the build at {override}", "VIDIS_TORCH_INDEX"
            )
        raise SystemExit(f"VIDIS_TORCH_INDEX must be cpu, default or an index URL, got {override!r}")
    version = installed()
    if version and version.split("+")[0] == TORCH.split("==")[1]:
        return Decision(None, f"torch {version}", "already installed in this Python")
    if which("nvidia-smi"):
        return Decision(
            install, "default build (CUDA on Linux)", "nvidia-smi found: this machine has an NVIDIA GPU"
        )
    if system != "Linux":
        return Decision(install, "default build (CPU)", f"{system}: PyPI's torch wheels carry no CUDA")
    if local():
        return Decision(
            install, "local wheel", "pip finds torch 2.13.0 in its local wheels (find-links), no index needed"
        )
    return Decision(
        [*install, "--index-url", CPU_INDEX],
        "CPU build",
        "Linux without nvidia-smi: the default build would pull about 3 GB of CUDA packages",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print the decision and command only")
    args = parser.parse_args(argv)
    decision = decide()
    if decision.command is None:
        print(f"torch: {decision.build}, {decision.reason}: nothing to install")
        return 0
    command = [sys.executable, "-m", "pip", *decision.command]
    print(f"torch: installing the {decision.build} ({decision.reason})")
    print("$ " + " ".join(command), flush=True)
    if args.dry_run:
        return 0
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())

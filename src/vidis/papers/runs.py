"""The training runs of a reproduction: train, resume or reuse a run folder (shared by the papers)."""

from __future__ import annotations

from pathlib import Path

from ..config import flatten
from ..errors import ConfigError, VidisError
from ..train.checkpoint import checkpoint_path, read_checkpoint
from ..train.spec import RunSpec, make_spec
from ..train.trainer import Trainer


class RunMismatch(VidisError, ValueError):
    """`reproduce` found a run whose configuration differs from the one it would train."""


def _section_dict(spec: RunSpec) -> dict:
    d = spec.to_dict()
    run = {"model": d["model"], "data": d["data"], "preset": d["preset"]}
    return {"run": run, "model": d["model_config"], "data": d["data_config"], "train": d["train"]}


def spec_differences(saved: RunSpec, wanted: RunSpec) -> dict[str, tuple]:
    """{"section.key": (saved value, wanted value)} for every setting that differs."""
    a, b = flatten(_section_dict(saved)), flatten(_section_dict(wanted))
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def run_overrides(spec: RunSpec) -> dict[str, object]:
    """The settings of a run that differ from its model's preset: {"train.steps": 10, ...}."""
    default = make_spec(spec.model, spec.data, spec.preset)
    return {k: new for k, (new, _) in spec_differences(spec, default).items()}


def run_finished(run_dir: Path) -> bool:
    """Whether `run_dir` holds a run that trained all its steps (or stopped at its time limit)."""
    last = checkpoint_path(Path(run_dir))
    if not last.exists():
        return False
    return _finished(read_checkpoint(last), RunSpec.load(run_dir))


def _finished(state: dict, saved: RunSpec) -> bool:
    """A checkpoint `state` of the run `saved` is final: all steps trained, or the time limit hit."""
    return state["step"] >= saved.train.steps or bool(state.get("time_limited"))


def train_spec(
    spec: RunSpec, run_dir: Path, progress: bool, reuse: bool = False, label: str | None = None
) -> Path:
    """Train `spec` into `run_dir`, resume it if unfinished, reuse it if done.

    A run already in `run_dir` is resumed or reused only if its configuration is the one this
    call would train (model, data and train sections, preset and overrides); otherwise
    `RunMismatch` says what differs, unless `reuse=True` (then the run is used as it is).
    `label` names the run in the message (default: the model's name)."""
    run_dir = Path(run_dir)
    last = checkpoint_path(run_dir)
    if last.exists():
        saved = RunSpec.load(run_dir)
        if saved.model != spec.model:
            raise ConfigError(f"{run_dir} holds a {saved.model} run, not {spec.model}")
        differences = spec_differences(saved, spec)
        if differences and not reuse:
            listed = "; ".join(
                f"{k}: run has {old!r}, asked {new!r}" for k, (old, new) in differences.items()
            )
            raise RunMismatch(
                f"{run_dir} holds a run trained with other settings ({listed}). Choose another --out, "
                f"delete {run_dir}, or pass --reuse to use that run as it is"
            )
        state = read_checkpoint(last)
        if _finished(state, saved):
            note = f", differing from this call: {', '.join(differences)}" if differences else ""
            print(f"reusing {run_dir} (step {state['step']} of {saved.train.steps}{note})")
            return run_dir
        print(f"resuming {run_dir} from step {state['step']} of {saved.train.steps}")
        _fit(Trainer(saved, run_dir, resume=True, progress=progress))
        return run_dir
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(spec, run_dir, progress=progress)
    params = trainer.model.num_parameters()
    what = f"{spec.preset}, {spec.train.steps} steps, {params:,} params"
    print(f"training {label or spec.model} on {spec.data} ({what})")
    _fit(trainer)
    return run_dir


def _fit(trainer: Trainer):
    """`trainer.fit()`; Ctrl-C or SIGTERM says what was saved and that the same call goes on."""
    try:
        trainer.fit()
    except KeyboardInterrupt:
        run = trainer.run_dir
        resume = f"the same command resumes {run}"
        raise trainer.interruption(resume, f"the same command starts {run} again") from None

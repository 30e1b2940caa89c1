"""The `vidis` command line: one plain function per subcommand (list, data preview and train here;
those that read finished runs or train many in `commands.py`).

Errors caused by the user's input print one line (`vidis: error: ...`) and exit with 2; Ctrl-C
exits with 130 and says what was saved; any other exception is a bug in vidis and prints one
line too (exit 1). Set VIDIS_DEBUG=1 to get the traceback of any of them instead.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections import Counter
from pathlib import Path

from .commands import (
    cmd_eval,
    cmd_interpolate,
    cmd_judge_train,
    cmd_leaderboard,
    cmd_predict,
    cmd_reconstruct,
    cmd_report,
    cmd_reproduce,
    cmd_swap,
    data_options_from_sets,
    print_rows,
)
from .errors import ConfigError, RunFolderError, VidisError
from .train.run_lock import LOCK_FILE

DEFAULT_PRESET = "small"
DEVICES = ("auto", "cpu", "cuda")


def _at_least(low: int):
    """An argparse type: an integer >= low (argparse prints the error as one line)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse
def _preset_names() -> list[str]:
    try:
        from .models.base import preset_names  # noqa: PLC0415  (every preset any model declares)

        return list(preset_names())
    except ImportError:
        from .models.base import PRESETS  # noqa: PLC0415

        return list(PRESETS)


def _summary(cls, shared_module: bool = False) -> str:
    """First line of a class's module docstring (of its own docstring where its module registers
    several names), without references to files that do not ship."""
    module = sys.modules.get(cls.__module__)
    own = cls.__dict__.get("__doc__") if shared_module else None
    paragraph = (own or (module and module.__doc__) or cls.__doc__ or "").strip().split("\n\n")[0]
    line = re.split(r"(?<=[.])\s+(?=[A-Z])", " ".join(paragraph.split()))[0]  # its first sentence
    line = re.sub(r"`[^`]*(shared|papers)/[^`]*`(,\s*)?", "", line)  # shared/papers/...: not shipped
    line = re.sub(r"\s*\(\s*\)", "", line)
    return re.sub(r"\(\s+", "(", line).strip()


def cmd_list(args) -> int:
    from .eval.protocols import PROTOCOLS  # noqa: PLC0415
    from .registry import DATASETS, MODELS, _load_all  # noqa: PLC0415

    _load_all()
    width = max(map(len, [*MODELS, *DATASETS])) + 2
    print("models:")
    modules = Counter(cls.__module__ for cls in [*MODELS.values(), *DATASETS.values()])
    for name, cls in sorted(MODELS.items()):
        print(f"  {name:<{width}}{_summary(cls, modules[cls.__module__] > 1)}")
        print(f"  {'':<{width}}presets: {', '.join(cls.presets)}")
    print("datasets:")
    for name, cls in sorted(DATASETS.items()):
        print(f"  {name:<{width}}{_summary(cls, modules[cls.__module__] > 1)}")
    print("eval protocols (vidis eval RUN --protocol NAME):")
    for name, protocol in PROTOCOLS.items():
        judged = " (judged: also run by --judge)" if protocol.judged else ""
        print(f"  {name:<{width}}{protocol.help}{judged}")
    print(
        "presets: smoke (seconds, for tests), small (minutes on a CPU), paper (the paper's setting), "
        "paper-code (the paper's public code); a model may declare more"
    )
    if args.params:
        print()
        print_parameter_counts(MODELS)
    return 0


def parameter_counts(model_cls) -> dict[str, tuple[int, tuple]]:
    """{preset: (parameters, video shape)} of `model_cls`, built on the meta device (no memory)."""
    import torch  # noqa: PLC0415

    from .registry import get_dataset_class  # noqa: PLC0415
    from .train.spec import build_model, make_spec  # noqa: PLC0415

    counts = {}
    for preset in model_cls.presets:
        spec = make_spec(model_cls.name, preset=preset)
        shape = _video_shape(get_dataset_class(spec.data), spec.data_config)
        with torch.device("meta"):
            model = build_model(spec, shape)
        counts[preset] = (model.num_parameters(), shape)
    return counts


def _video_shape(dataset_cls, config) -> tuple:
    """(T, C, H, W) of a dataset without generating any clip."""
    dataset = dataset_cls(config, split="test", seed=0)
    return tuple(dataset.video_shape)


def print_parameter_counts(models: dict):
    rows = [("model", "preset", "parameters", "video (T, C, H, W)")]
    for name, cls in sorted(models.items()):
        for preset, (count, shape) in parameter_counts(cls).items():
            rows.append((name, preset, f"{count:,}", str(shape)))
    print("parameters at each preset (built at the preset's video shape):")
    print_rows(rows, right={2})


def preview_paths(out) -> tuple[Path, Path]:
    """(GIF path, PNG path) of `data preview --out`: the suffix names one, the other gets its suffix."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".gif", ".png", ""):
        raise ConfigError(f"--out must end in .gif or .png (both are written), got {out}")
    base = out if suffix else out.with_name(out.name + ".gif")
    gif = out if suffix == ".gif" else base.with_suffix(".gif")
    png = out if suffix == ".png" else base.with_suffix(".png")
    return gif, png


def cmd_data_preview(args) -> int:
    from .data import make_dataset  # noqa: PLC0415
    from .viz import save_gif, save_png, video_grid, video_strip  # noqa: PLC0415

    gif, png = preview_paths(args.out)
    dataset = make_dataset(args.data, args.split, seed=args.seed, **data_options_from_sets(args.set))
    n = min(args.num, len(dataset))
    batch = dataset.batch(range(n))
    labels = {k: v.tolist() for k, v in batch["factors"].items() if v.dim() == 1}
    captions = [" ".join(f"{k}={v[i]}" for k, v in labels.items()) for i in range(n)]
    save_gif(video_grid([batch["video"]]), gif, scale=2)  # the clips side by side, animated
    save_png(video_strip(batch["video"], labels=captions), png)  # a clip per row
    print(f"wrote {gif} and {png} ({n} {args.split} clips of {args.data})")
    for i, caption in enumerate(captions):
        print(f"  clip {i}: {caption}")
    return 0


def _check_out(run_dir: Path, overwrite: bool):
    """Refuse an --out that is a file, a non-empty folder that is not a vidis run, or a run
    without --overwrite."""
    if run_dir.exists() and not run_dir.is_dir():
        raise RunFolderError(f"--out {run_dir} is a file; give a folder for the run")
    if not run_dir.exists() or not any(p.name != LOCK_FILE for p in run_dir.iterdir()):
        return
    if not (run_dir / "config.json").is_file():
        raise RunFolderError(
            f"--out {run_dir} is not empty and is not a vidis run folder (no config.json); "
            "choose a new or empty folder"
        )
    if not overwrite:
        raise RunFolderError(f"{run_dir} already holds a run: use --resume {run_dir} or --overwrite")


def cmd_train(args) -> int:
    """Train or resume a run; under torchrun (WORLD_SIZE > 1) every process runs this, rank 0
    checks and prepares the run folder first and alone prints and writes."""
    from .train import distributed  # noqa: PLC0415

    try:
        return _resume(args) if args.resume else _train(args)
    except VidisError as err:
        if distributed.rank() != 0:  # every process has the error; rank 0 alone prints it
            raise SystemExit(err.exit_code) from None
        raise
    finally:
        distributed.shutdown()


def _say(text: str):
    from .train import distributed  # noqa: PLC0415

    if distributed.is_main():
        print(text)


def _train(args) -> int:
    from .config import parse_set_args  # noqa: PLC0415
    from .train import distributed  # noqa: PLC0415
    from .train.spec import clear_run, make_spec  # noqa: PLC0415
    from .train.trainer import Trainer  # noqa: PLC0415

    if not args.model or not args.out:
        raise ConfigError("train needs --model NAME and --out RUN_DIR (or --resume RUN_DIR)")
    run_dir = Path(args.out)
    # the new configuration is checked before anything of an old run is removed
    spec = make_spec(args.model, args.data, args.preset or DEFAULT_PRESET, parse_set_args(args.set))
    distributed.init_from_env(spec.train.device)

    def prepare():
        _check_out(run_dir, args.overwrite)
        if args.overwrite:
            removed = clear_run(run_dir)
            if removed:
                print(f"--overwrite: removed {', '.join(removed)} from {run_dir}")

    distributed.main_first(lambda: prepare() if distributed.is_main() else None)
    trainer = Trainer(spec, run_dir, progress=not args.no_progress)
    processes = f" x {distributed.world_size()} processes" if distributed.is_distributed() else ""
    _say(
        f"training {spec.model} on {spec.data} ({spec.preset}) for {spec.train.steps} steps "
        f"on {trainer.device}{processes}, {trainer.model.num_parameters():,} parameters -> {run_dir}"
    )
    return _fit(trainer, run_dir)


def _resume(args) -> int:
    from .config import parse_set_args, update  # noqa: PLC0415
    from .errors import CheckpointError  # noqa: PLC0415
    from .train import distributed  # noqa: PLC0415
    from .train.checkpoint import checkpoint_path  # noqa: PLC0415
    from .train.spec import RunSpec  # noqa: PLC0415
    from .train.trainer import Trainer  # noqa: PLC0415

    flags = {"--model": args.model, "--data": args.data, "--out": args.out, "--preset": args.preset}
    flags["--overwrite"] = args.overwrite
    given = [flag for flag, value in flags.items() if value]
    if given:
        raise ConfigError(
            f"--resume continues a run as it was configured and takes no {', '.join(given)}; "
            "change train.* settings with --set, or start a new run with --out"
        )
    run_dir = Path(args.resume)
    spec = RunSpec.load(run_dir)
    if not checkpoint_path(run_dir).is_file():
        raise CheckpointError(
            f"{run_dir} has no checkpoint to resume from (it stopped before its first one); "
            f"start it again with --out {run_dir} --overwrite"
        )
    extra = parse_set_args(args.set)
    if extra["model"] or extra["data"]:
        raise ConfigError("a resumed run may only change train.* settings (e.g. train.steps)")
    spec.train = update(spec.train, extra["train"], "train")
    distributed.init_from_env(spec.train.device)
    trainer = Trainer(spec, run_dir, resume=True, progress=not args.no_progress)
    if trainer.step >= spec.train.steps:
        _say(
            f"{run_dir} is already complete at step {trainer.step} (train.steps={spec.train.steps}): "
            "nothing to do (raise it with --set train.steps=N)"
        )
        return 0
    processes = f" x {distributed.world_size()} processes" if distributed.is_distributed() else ""
    _say(
        f"resuming from step {trainer.step} of {spec.train.steps}: {spec.model} on {spec.data} "
        f"({spec.preset}) on {trainer.device}{processes} -> {run_dir}"
    )
    return _fit(trainer, run_dir)


def _fit(trainer, run_dir: Path) -> int:
    from .train.checkpoint import checkpoint_path  # noqa: PLC0415

    try:
        val = trainer.fit()
    except KeyboardInterrupt:
        resume = f"resume with: vidis train --resume {run_dir}"
        raise trainer.interruption(resume, f"start again with --out {run_dir} --overwrite") from None
    if val:
        _say("val: " + ", ".join(f"{k}={v:.4g}" for k, v in val.items()))
    _say(f"checkpoint: {checkpoint_path(run_dir)}")
    return 0


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Shows each option's default where it has one (not for flags and unset options)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if (
            "%(default)" not in text
            and action.option_strings
            and action.default
            not in (
                None,
                False,
                [],
                argparse.SUPPRESS,
            )
        ):
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):  # one line, exit 2, no usage dump on stderr's last line
        self.print_usage(sys.stderr)
        print(f"vidis: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _add_device(p):
    p.add_argument("--device", default="auto", choices=DEVICES, help="where to run (auto: cuda if available)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="vidis", description="Learn, swap and measure content/motion video representations."
    )
    from . import __version__  # noqa: PLC0415

    parser.add_argument("--version", action="version", version=f"vidis {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("list", help="models, datasets, protocols and presets")
    p.add_argument("--params", action="store_true", help="also count every model's parameters at each preset")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("data", help="look at a dataset")
    data_sub = p.add_subparsers(dest="data_command", required=True, parser_class=_Parser)
    p = data_sub.add_parser(
        "preview", help="write a GIF (clips side by side) and a PNG strip (a clip per row)"
    )
    p.add_argument("--data", default="moving_mnist", help="dataset name (see `vidis list`)")
    p.add_argument("--split", default="train", choices=["train", "val", "test"], help="which split")
    p.add_argument("--num", type=_at_least(1), default=4, help="number of clips")
    p.add_argument("--seed", type=int, default=0, help="the split's seed (training runs use train.seed)")
    p.add_argument(
        "--set", action="append", default=[], metavar="data.KEY=VALUE", help="override a dataset option"
    )
    p.add_argument(
        "--out",
        default="preview.gif",
        help="the GIF (.gif) or PNG (.png) path; the other file gets the same name with its suffix",
    )
    p.set_defaults(func=cmd_data_preview)

    p = sub.add_parser("train", help="train a model into a run folder (or resume one)")
    p.add_argument("--model", help="model name (see `vidis list`)")
    p.add_argument("--data", help="dataset name (default: the model's)")
    p.add_argument(
        "--preset",
        metavar="NAME",
        help=f"a preset the model declares, e.g. {', '.join(_preset_names())} (default: {DEFAULT_PRESET})",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override a config value, e.g. model.beta=2, train.steps=100, data.num_digits=1",
    )
    p.add_argument("--out", help="run folder to create (new or empty, or a run with --overwrite)")
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue the run in RUN_DIR from its last checkpoint (only --set train.* may change)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="start afresh in --out, first removing the old run's checkpoints, metrics, figures, "
        "report, log and config",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "eval",
        help="run every protocol that applies (reconstruction, probes, ...) -> RUN/metrics.json",
    )
    p.add_argument("run", help="run folder")
    p.add_argument("--num-clips", type=_at_least(1), default=1000, help="test clips to evaluate")
    p.add_argument("--batch-size", type=_at_least(1), default=50, help="clips per batch")
    _add_device(p)
    p.add_argument(
        "--checkpoint", default="last", choices=["last", "best"], help="best: the lowest validation loss"
    )
    p.add_argument(
        "--protocol",
        action="append",
        metavar="NAME",
        help="run only this protocol (repeatable): reconstruction, probes, judge, gt_swaps, prediction",
    )
    p.add_argument(
        "--judge",
        action="store_true",
        help="also run the judged protocols: paper 000's scores and swaps scored by the dataset's "
        "judge (trained and cached on first use: Moving MNIST's about 16 minutes on 2 CPU cores)",
    )
    p.add_argument(
        "--judge-steps",
        type=_at_least(1),
        help="use (or train) the judge of this many steps instead of the default one",
    )
    p.add_argument(
        "--quick-judge",
        action="store_true",
        help="use (or train) the quick judge (about 2 minutes on CPU, near chance: for smoke tests; "
        "chosen automatically for runs at a smoke preset)",
    )
    p.add_argument("--samples", type=_at_least(1), default=100,
                   help="prediction protocol: futures sampled per clip for best-of-N and mean-of-N")
    p.add_argument("--no-report", action="store_true", help="do not rewrite RUN/report.html")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("reconstruct", help="GIF of test clips above their reconstructions")
    p.add_argument("run", help="run folder")
    p.add_argument("--num", type=_at_least(1), default=6, help="number of test clips")
    p.add_argument("--out", help="GIF path (default RUN/figures/reconstruction.gif)")
    _add_device(p)
    p.set_defaults(func=cmd_reconstruct)

    p = sub.add_parser("swap", help="grid of content/motion swaps between test clips (GIF + PNG)")
    p.add_argument("run", help="run folder")
    p.add_argument("--num", type=_at_least(1), default=5, help="number of test clips (grid of num x num)")
    p.add_argument("--out", help="GIF path (default RUN/figures/swap.gif)")
    _add_device(p)
    p.set_defaults(func=cmd_swap)

    p = sub.add_parser("interpolate", help="move content or motion from one clip to another (GIF + PNG)")
    p.add_argument("run", help="run folder")
    p.add_argument(
        "--factor",
        default="content",
        help="the latent group that moves: content or motion (or a group the model declares)",
    )
    p.add_argument("--num", type=_at_least(1), default=3, help="number of clip pairs (rows)")
    p.add_argument("--steps", type=_at_least(2), default=7, help="frames from the left clip to the right one")
    p.add_argument("--out", help="GIF path (default RUN/figures/interpolate_FACTOR.gif)")
    _add_device(p)
    p.set_defaults(func=cmd_interpolate)

    p = sub.add_parser(
        "predict", help="GIF/PNG of test clips' futures: ground truth, best sample, random samples"
    )
    p.add_argument("run", help="run folder of a prediction model (e.g. svg_lp, drsvg)")
    p.add_argument(
        "--context", type=_at_least(2), help="observed frames (default: the model's context_frames)"
    )
    p.add_argument("--horizon", type=_at_least(1), default=25, help="frames to predict")
    p.add_argument("--samples", type=_at_least(1), default=100, help="sampled futures per clip")
    p.add_argument("--random", type=_at_least(0), default=3, help="random samples shown beside the best")
    p.add_argument("--num", type=_at_least(1), default=4, help="number of test clips")
    p.add_argument("--seed", type=int, default=0, help="seed of the samples")
    p.add_argument("--out", help="folder for prediction.gif and prediction.png (default RUN/figures)")
    _add_device(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("judge", help="classifiers of a dataset's factors, used to score swaps and samples")
    judge_sub = p.add_subparsers(dest="judge_command", required=True, parser_class=_Parser)
    p = judge_sub.add_parser("train", help="train (and cache) the judge of a dataset on its real train split")
    p.add_argument("--data", default="moving_mnist", help="dataset name")
    p.add_argument(
        "--set", action="append", default=[], metavar="data.KEY=VALUE", help="override a dataset option"
    )
    p.add_argument("--steps", type=_at_least(1), help="training steps (default: the judge's default)")
    p.add_argument(
        "--quick", action="store_true", help="the quick judge (for smoke tests; near chance, cached apart)"
    )
    _add_device(p)
    p.add_argument("--overwrite", action="store_true", help="retrain even if a judge is cached")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_judge_train)

    p = sub.add_parser(
        "reproduce", help="train, evaluate and tabulate a paper's experiments beside its numbers"
    )
    p.add_argument("paper", help="paper key, e.g. 000")
    p.add_argument("--preset", default=DEFAULT_PRESET, metavar="NAME", help="a preset every model declares")
    p.add_argument("--out", required=True, help="folder for runs, tables, figures and report.html")
    p.add_argument("--num-clips", type=_at_least(1), default=1000, help="test clips to evaluate")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override for every model's run, e.g. train.num_workers=4",
    )
    p.add_argument(
        "--reuse",
        action="store_true",
        help="reuse runs already in --out even where their configuration differs from this one",
    )
    p.add_argument("--judge-steps", type=_at_least(1), help="judge training steps (default: the judge's)")
    p.add_argument(
        "--tables", metavar="LIST",
        help="tables whose trainings to run, e.g. 1,2,3 (papers 001, 002; default 1)",
    )
    p.add_argument(
        "--data", action="append", metavar="NAME",
        help="a dataset to reproduce on (repeatable; papers 001, 004)",
    )
    _add_device(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser(
        "leaderboard", help="every model on every dataset it fits: same budget, same protocols, one page"
    )
    p.add_argument("--preset", default="small", choices=("smoke", "small", "paper"), help="scale")
    p.add_argument("--out", required=True, help="folder of runs, tables, report.html (rerun: resume)")
    p.add_argument("--data", metavar="A,B", help="datasets (default: every one that needs no files on disk)")
    p.add_argument("--models", metavar="A,B", help="models (default: every registered one)")
    p.add_argument("--num-clips", type=_at_least(1), help="test clips scored per pair (default per preset)")
    p.add_argument("--reuse", action="store_true", help="reuse runs in --out whose settings differ")
    p.add_argument("--variants", metavar="all|A,B", help="also declared PRESET-SUFFIX presets")
    p.add_argument("--steps", type=_at_least(1), help="budget: steps (default per preset)")
    p.add_argument("--batch-size", type=_at_least(1), help="budget: batch size (default per preset)")
    p.add_argument("--seed", type=int, default=0, help="training seed of every pair")
    p.add_argument("--judge-steps", type=_at_least(1), help="judge training steps (default: the judge's)")
    p.add_argument("--no-train", action="store_true",
                   help="train nothing: score the finished runs in --out, the rest stay 'not yet run'")
    _add_device(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_leaderboard)

    p = sub.add_parser("report", help="(re)write RUN/report.html from what the run folder holds")
    p.add_argument("run", help="run folder")
    p.set_defaults(func=cmd_report)
    return parser


def _error(message: str):
    print("vidis: error: " + " ".join(str(message).split()), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = os.environ.get("VIDIS_DEBUG", "") not in ("", "0")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        if debug:
            raise
        _error("interrupted")
        return 130
    except VidisError as err:
        if debug:
            raise
        _error(err)
        return err.exit_code
    except Exception as err:  # noqa: BLE001  (a bug in vidis: still one line)
        if debug:
            raise
        _error(f"unexpected {type(err).__name__}: {err} (set VIDIS_DEBUG=1 for the traceback)")
        return 1

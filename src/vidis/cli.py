"""The `vidis` command line: one plain function per subcommand.

Errors caused by the user's input print one line (`vidis: error: ...`) and exit with 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import VidisError
from .models.base import PRESETS as PRESET_CHOICES


def _device(name: str) -> str:
    from .train.trainer import pick_device

    return str(pick_device(name))


def cmd_list(args) -> int:
    from .models.base import PRESETS
    from .registry import DATASETS, MODELS, _load_all

    _load_all()
    print("models:")
    for name, cls in sorted(MODELS.items()):
        doc = (cls.__module__ and sys.modules[cls.__module__].__doc__ or "").strip().split("\n")[0]
        print(f"  {name:<14} presets: {', '.join(cls.presets):<22} {doc}")
    print("datasets:")
    for name, cls in sorted(DATASETS.items()):
        doc = (sys.modules[cls.__module__].__doc__ or "").strip().split("\n")[0]
        print(f"  {name:<18} {doc}")
    print(f"presets: {', '.join(PRESETS)}")
    return 0


def _data_options(items: list[str]) -> dict:
    from .config import parse_set_args

    sets = parse_set_args(items)
    if sets["model"] or sets["train"]:
        raise VidisError("`vidis data` takes only data.* settings")
    return sets["data"]


def cmd_data_preview(args) -> int:
    from .data import make_dataset
    from .viz import save_gif, save_png, video_grid, video_strip

    if args.num < 1:
        raise VidisError(f"--num must be >= 1, got {args.num}")
    dataset = make_dataset(args.data, args.split, seed=args.seed, **_data_options(args.set))
    n = min(args.num, len(dataset))
    batch = dataset.batch(range(n))
    labels = {k: v.tolist() for k, v in batch["factors"].items() if v.dim() == 1}
    captions = [" ".join(f"{k}={v[i]}" for k, v in labels.items()) for i in range(n)]
    out = Path(args.out)
    save_gif(video_grid([batch["video"]]), out, scale=2)  # the clips side by side, animated
    save_png(video_strip(batch["video"], labels=captions), out.with_suffix(".png"))  # a clip per row
    print(f"wrote {out} and {out.with_suffix('.png')} ({n} {args.split} clips of {args.data})")
    for i, caption in enumerate(captions):
        print(f"  clip {i}: {caption}")
    return 0


def cmd_train(args) -> int:
    from .config import parse_set_args, update
    from .train.spec import RunSpec, make_spec
    from .train.trainer import Trainer

    if args.resume:
        if args.model or args.data or args.out:
            raise VidisError("--resume RUN_DIR takes no --model, --data or --out")
        spec = RunSpec.load(args.resume)
        extra = parse_set_args(args.set)
        if extra["model"] or extra["data"]:
            raise VidisError("a resumed run may only change train.* settings (e.g. train.steps)")
        spec.train = update(spec.train, extra["train"], "train")
        run_dir = Path(args.resume)
        trainer = Trainer(spec, run_dir, resume=True, progress=not args.no_progress)
    else:
        if not args.model or not args.out:
            raise VidisError("train needs --model NAME and --out RUN_DIR (or --resume RUN_DIR)")
        run_dir = Path(args.out)
        if (run_dir / "checkpoints" / "last.pt").exists() and not args.overwrite:
            raise VidisError(f"{run_dir} already holds a run: use --resume {run_dir} or --overwrite")
        spec = make_spec(args.model, args.data, args.preset, parse_set_args(args.set))
        trainer = Trainer(spec, run_dir, progress=not args.no_progress)
    print(
        f"training {spec.model} on {spec.data} ({spec.preset}) for {spec.train.steps} steps "
        f"on {trainer.device}, {trainer.model.num_parameters():,} parameters -> {run_dir}"
    )
    val = trainer.fit()
    if val:
        print("val: " + ", ".join(f"{k}={v:.4g}" for k, v in val.items()))
    print(f"checkpoint: {run_dir / 'checkpoints' / 'last.pt'}")
    return 0


def cmd_eval(args) -> int:
    from . import load_model
    from .config import to_dict
    from .data import eval_dataset
    from .eval.reconstruction import evaluate_reconstruction
    from .train.spec import RunSpec

    device = _device(args.device)
    spec = RunSpec.load(args.run)
    model = load_model(args.run, device=device)
    test = eval_dataset(spec.data, "test", **to_dict(spec.data_config))
    results = evaluate_reconstruction(model, test, args.num_clips, args.batch_size, device)
    path = Path(args.run) / "metrics.json"
    metrics = json.loads(path.read_text()) if path.exists() else {}
    metrics["test"] = results
    if args.judge:
        from .eval.disentanglement import paper000_scores
        from .eval.judge import get_or_train_judge

        names = {f.name for f in test.factors}
        if not {"digit0", "direction"} <= names:
            raise VidisError(
                f"--judge needs a dataset with digit0 and direction factors; {spec.data} has {names}"
            )

        judge = get_or_train_judge(spec.data, to_dict(spec.data_config), device=device)
        scores = paper000_scores(model, test, args.num_clips, args.batch_size, device=device, judge=judge)
        metrics["judge"] = {k.removeprefix("judge_"): v for k, v in scores.items() if k.startswith("judge_")}
        metrics["disentanglement"] = {k: v for k, v in scores.items() if not k.startswith("judge_")}
        print(json.dumps(scores, indent=2))
    metrics["step"] = model.step
    metrics["parameters"] = model.num_parameters()
    path.write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"wrote {path}")
    if not args.no_report:
        from .eval.run_report import write_run_report

        print(f"wrote {write_run_report(args.run)}")
    return 0


def _run_and_test_clips(args, num: int, offset: int = 0):
    from . import load_model
    from .config import to_dict
    from .data import eval_dataset
    from .train.spec import RunSpec

    if num < 1:
        raise VidisError(f"--num must be >= 1, got {num}")
    device = _device(args.device)
    spec = RunSpec.load(args.run)
    model = load_model(args.run, device=device)
    test = eval_dataset(spec.data, "test", **to_dict(spec.data_config))
    video = test.batch(range(offset, min(offset + num, len(test))))["video"].to(device)
    return model, video


def _out(args, name: str) -> Path:
    return Path(args.out) if args.out else Path(args.run) / "figures" / name


def cmd_reconstruct(args) -> int:
    from .eval.figures import reconstruction_grid

    model, video = _run_and_test_clips(args, args.num)
    paths = reconstruction_grid({model.name: model}, video, _out(args, "reconstruction.gif"))
    print(f"wrote {' and '.join(map(str, paths))} (top: test clips, bottom: reconstructions)")
    return 0


def cmd_swap(args) -> int:
    from .eval.figures import swap_grid

    model, video = _run_and_test_clips(args, args.num)
    paths = swap_grid(model, video, _out(args, "swap.gif"))
    print(
        f"wrote {' and '.join(map(str, paths))}: cell (i, j) = content of clip i (left column) "
        "with motion of clip j (top row)"
    )
    return 0


def cmd_interpolate(args) -> int:
    from .eval.figures import interpolation_grid

    model, video = _run_and_test_clips(args, 2 * args.num)
    if video.shape[0] < 2:
        raise VidisError("interpolate needs at least 2 test clips")
    half = video.shape[0] // 2
    out = _out(args, f"interpolate_{args.factor}.gif")
    paths = interpolation_grid(model, video[:half], video[half : 2 * half], args.factor, out, args.steps)
    print(
        f"wrote {' and '.join(map(str, paths))}: each row moves the {args.factor} from the left clip "
        f"to the right clip in {args.steps} steps"
    )
    return 0


def cmd_judge_train(args) -> int:
    from .eval.judge import DEFAULT_STEPS, judge_path, train_judge

    options = _data_options(args.set)
    path = judge_path(args.data, options)
    if path.exists() and not args.overwrite:
        print(f"a judge for {args.data} is already cached at {path} (use --overwrite to retrain)")
        return 0
    _, report = train_judge(
        args.data,
        options,
        steps=args.steps or DEFAULT_STEPS,
        device=_device(args.device),
        progress=not args.no_progress,
    )
    print(json.dumps(report["factor_accuracy"], indent=2))
    print(f"judge test accuracy per factor above (chance: {report['chance']}); saved to {path}")
    return 0


def cmd_reproduce(args) -> int:
    import importlib

    from .config import parse_set_args
    from .papers import PAPERS

    if args.paper not in PAPERS:
        raise VidisError(f"no reproduction for paper {args.paper!r}; available: {', '.join(PAPERS)}")
    paper = importlib.import_module(PAPERS[args.paper])
    paper.reproduce(
        preset=args.preset,
        out=args.out,
        num_clips=args.num_clips,
        device=args.device,
        progress=not args.no_progress,
        overrides=parse_set_args(args.set),
        judge_steps=args.judge_steps,
    )
    out = Path(args.out)
    for name in ("table1.md", "table2.md"):
        if (out / name).exists():
            print((out / name).read_text())
    print(f"wrote {out}/table1.md, table2.md, results.json, figures/ and {out / 'report.html'}")
    return 0


def cmd_report(args) -> int:
    from .eval.run_report import write_run_report

    print(f"wrote {write_run_report(args.run)}")
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, no usage dump on stderr's last line
        self.print_usage(sys.stderr)
        print(f"vidis: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="vidis", description="Learn, swap and measure content/motion video representations."
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"vidis {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("list", help="models, datasets and presets")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("data", help="look at a dataset")
    data_sub = p.add_subparsers(dest="data_command", required=True, parser_class=_Parser)
    p = data_sub.add_parser("preview", help="write a GIF (and PNG strip) of a few clips")
    p.add_argument("--data", default="moving_mnist")
    p.add_argument("--split", default="train", choices=["train", "val", "test"])
    p.add_argument("--num", type=int, default=4, help="number of clips")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="data.KEY=VALUE")
    p.add_argument("--out", default="preview.gif")
    p.set_defaults(func=cmd_data_preview)

    p = sub.add_parser("train", help="train a model into a run folder (or resume one)")
    p.add_argument("--model", help="model name (see `vidis list`)")
    p.add_argument("--data", help="dataset name (default: the model's)")
    p.add_argument("--preset", default="small", choices=PRESET_CHOICES)
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override a config value, e.g. model.beta=2, train.steps=100, data.num_digits=1",
    )
    p.add_argument("--out", help="run folder to create")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its last checkpoint")
    p.add_argument("--overwrite", action="store_true", help="start afresh even if --out holds a run")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="MSE, PSNR, SSIM on the test split -> RUN/metrics.json")
    p.add_argument("run", help="run folder")
    p.add_argument("--num-clips", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=50)
    p.add_argument("--device", default="auto")
    p.add_argument("--no-report", action="store_true", help="do not rewrite RUN/report.html")
    p.add_argument(
        "--judge",
        action="store_true",
        help="also score latents (paper 000's probes) and swaps with the dataset's judge "
        "(trained and cached on first use: a few minutes on CPU)",
    )
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("reconstruct", help="GIF of test clips above their reconstructions")
    p.add_argument("run", help="run folder")
    p.add_argument("--num", type=int, default=6, help="number of test clips")
    p.add_argument("--out", help="GIF path (default RUN/figures/reconstruction.gif)")
    p.add_argument("--device", default="auto")
    p.set_defaults(func=cmd_reconstruct)

    p = sub.add_parser("swap", help="grid of content/motion swaps between test clips (GIF + PNG)")
    p.add_argument("run", help="run folder")
    p.add_argument("--num", type=int, default=5, help="number of test clips (grid of num x num swaps)")
    p.add_argument("--out", help="GIF path (default RUN/figures/swap.gif)")
    p.add_argument("--device", default="auto")
    p.set_defaults(func=cmd_swap)

    p = sub.add_parser("interpolate", help="move content or motion from one clip to another (GIF + PNG)")
    p.add_argument("run", help="run folder")
    p.add_argument("--factor", required=True, choices=["content", "motion"])
    p.add_argument("--num", type=int, default=3, help="number of clip pairs (rows)")
    p.add_argument("--steps", type=int, default=7, help="interpolation steps between the two clips")
    p.add_argument("--out", help="GIF path (default RUN/figures/interpolate_FACTOR.gif)")
    p.add_argument("--device", default="auto")
    p.set_defaults(func=cmd_interpolate)

    p = sub.add_parser("judge", help="classifiers of a dataset's factors, used to score swaps and samples")
    judge_sub = p.add_subparsers(dest="judge_command", required=True, parser_class=_Parser)
    p = judge_sub.add_parser("train", help="train (and cache) the judge of a dataset on its real train split")
    p.add_argument("--data", default="moving_mnist")
    p.add_argument("--set", action="append", default=[], metavar="data.KEY=VALUE")
    p.add_argument("--steps", type=int, help="training steps (default: the judge's default)")
    p.add_argument("--device", default="auto")
    p.add_argument("--overwrite", action="store_true", help="retrain even if a judge is cached")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_judge_train)

    p = sub.add_parser(
        "reproduce", help="train, evaluate and tabulate a paper's experiments beside its numbers"
    )
    p.add_argument("paper", help="paper key, e.g. 000")
    p.add_argument("--preset", default="small", choices=PRESET_CHOICES)
    p.add_argument("--out", required=True, help="folder for runs, tables, figures and report.html")
    p.add_argument("--num-clips", type=int, default=1000, help="test clips to evaluate")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override for every model's run, e.g. train.num_workers=4",
    )
    p.add_argument("--judge-steps", type=int, help="judge training steps (default: the judge's default)")
    p.add_argument("--device", default="auto")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser("report", help="(re)write RUN/report.html from what the run folder holds")
    p.add_argument("run", help="run folder")
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except VidisError as err:
        print(f"vidis: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vidis: interrupted", file=sys.stderr)
        return 130

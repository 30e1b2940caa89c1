"""The `vidis` subcommands that read finished runs or train many of them (eval, reconstruct, swap,
interpolate, predict, judge train, reproduce, leaderboard, report), and the helpers `cli.py`
shares with them. `cli.py` builds the parser and runs a command; see its docstring for errors.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError, VidisError


def resolve_device(name: str, flag: str = "--device") -> str:
    import torch  # noqa: PLC0415

    from .train.trainer import pick_device  # noqa: PLC0415

    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"{flag} cuda: no CUDA device is available here; use {flag} cpu (or auto)")
    return str(pick_device(name))


def print_rows(rows: list[tuple], right: set[int] = frozenset(), indent: str = "  "):
    """Print rows as aligned columns, two spaces apart; columns in `right` right-aligned."""
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [
            f"{str(c):>{w}}" if i in right else f"{str(c):<{w}}" for i, (c, w) in enumerate(zip(row, widths))
        ]
        print(indent + "  ".join(cells).rstrip())


def data_options_from_sets(items: list[str]) -> dict:
    from .config import parse_set_args

    sets = parse_set_args(items)
    if sets["model"] or sets["train"]:
        raise VidisError("`vidis data` takes only data.* settings")
    return sets["data"]


def fmt(value) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else "-"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


JUDGE_ROWS = (
    "content_accuracy",
    "motion_accuracy",
    "content_from_motion_source",
    "motion_from_content_source",
)


def print_judge_table(judge: dict):
    """metric | on swaps | judge on real clips (its ceiling) | on the model's reconstructions."""
    names = [k for k in judge if k.startswith("acc_") or k in JUDGE_ROWS]
    rows = [("metric", "swaps", "judge on real clips", "on reconstructions")]
    for name in names:
        rows.append(
            (name, fmt(judge[name]), fmt(judge.get(f"real_{name}")), fmt(judge.get(f"recon_{name}")))
        )
    if "fd" in judge:
        rows.append(("judge-FD (swaps vs real)", fmt(judge["fd"]), "", ""))
    print("judge on swaps (content of A, motion of B):")
    print_rows(rows, right={1, 2, 3})


def print_probe_table(probes: dict):
    """factor | accuracy from each latent group | chance | separation (own group - other)."""
    factors = [k.removesuffix("_chance") for k in probes if k.endswith("_chance")]
    groups = [k.removeprefix(f"{factors[0]}_from_") for k in probes if k.startswith(f"{factors[0]}_from_")]
    rows = [("factor", *(f"from {g}" for g in groups), "chance", "separation")]
    for f in factors:
        accuracy = [fmt(probes.get(f"{f}_from_{g}")) for g in groups]
        rows.append((f, *accuracy, fmt(probes[f"{f}_chance"]), fmt(probes.get(f"{f}_separation"))))
    print(f"probes (held-out accuracy of a linear probe, {probes.get('num_clips')} clips):")
    print_rows(rows, right=set(range(1, len(rows[0]))))


def print_section(name: str, values: dict):
    if name == "judge":
        print_judge_table(values)
        return
    if name == "probes" and any(k.endswith("_chance") for k in values):
        print_probe_table(values)
        return
    shown = {k: v for k, v in values.items() if k not in ("step", "checkpoint")}
    nested = [k for k, v in shown.items() if isinstance(v, (dict, list))]  # e.g. per-frame curves
    rows = [(k, fmt(v)) for k, v in shown.items() if k not in nested]
    print(f"{name}:")
    print_rows(rows, right={1})
    if nested:
        print(f"  ({', '.join(nested)}: in metrics.json)")


def cmd_eval(args) -> int:
    from . import load_model  # noqa: PLC0415
    from .config import to_dict  # noqa: PLC0415
    from .data import eval_dataset  # noqa: PLC0415
    from .eval.protocols import select_protocols, update_metrics  # noqa: PLC0415
    from .train.spec import RunSpec  # noqa: PLC0415

    spec = RunSpec.load(args.run)
    device = resolve_device(args.device)
    model = load_model(args.run, checkpoint=args.checkpoint, device=device)
    options = to_dict(spec.data_config)
    test = eval_dataset(spec.data, "test", **options)
    protocols, skipped = select_protocols(model, test, args.protocol, args.judge)
    for name, reason in skipped.items():
        print(f"protocol {name} not run: {reason}")
    n = min(args.num_clips, len(test))
    sections: dict[str, dict] = {}
    for protocol in protocols:
        print(f"{protocol.name}: {n} test clips, {args.checkpoint} checkpoint (step {model.step})")
        sections.update(
            protocol.run(
                model,
                test,
                args.num_clips,
                args.batch_size,
                device,
                data_name=spec.data,
                data_options=options,
                progress=not args.no_progress,
                judge_steps=args.judge_steps,
                quick_judge=args.quick_judge or spec.preset.startswith("smoke"),
                num_samples=args.samples,
            )
        )
    if "prediction" in sections:
        _prediction_curves(args.run, spec, options, test, sections["prediction"])
    path = Path(args.run) / "metrics.json"
    _, dropped = update_metrics(
        path, sections, model.step, args.checkpoint, parameters=model.num_parameters()
    )
    for name, values in sections.items():
        print_section(name, values)
    if dropped:
        print(f"dropped from metrics.json (measured at another step or checkpoint): {', '.join(dropped)}")
    print(f"wrote {path}")
    if not args.no_report:
        from .eval.run_report import write_run_report  # noqa: PLC0415

        print(f"wrote {write_run_report(args.run)}")
    return 0


def _prediction_curves(run, spec, options: dict, test, prediction: dict):
    """RUN/figures/prediction_curves.csv and .png: the per-frame curves with their 95% intervals,
    beside two predictions that need no model (all-black frames, the last frame repeated)."""
    from .eval.prediction import (  # noqa: PLC0415
        long_test_set,
        plot_prediction_curves,
        trivial_predictions,
        write_prediction_csv,
    )

    context, horizon = prediction["context_frames"], prediction["horizon"]
    clips = long_test_set(spec.data, options, context + horizon) if "num_frames" in options else test
    references = trivial_predictions(clips, context, prediction["num_clips"])
    figures = Path(run) / "figures"
    table = write_prediction_csv({spec.model: prediction}, figures / "prediction_curves.csv", references)
    plot = plot_prediction_curves({spec.model: prediction}, figures / "prediction_curves.png",
                                  title=f"{spec.model}: {context} observed frames", references=references)
    print(f"wrote {table} and {plot}")


def _run_and_test_clips(args, num: int, offset: int = 0):
    from . import load_model  # noqa: PLC0415
    from .config import to_dict  # noqa: PLC0415
    from .data import eval_dataset  # noqa: PLC0415
    from .train.spec import RunSpec  # noqa: PLC0415

    spec = RunSpec.load(args.run)
    device = resolve_device(args.device)
    model = load_model(args.run, device=device)
    test = eval_dataset(spec.data, "test", **to_dict(spec.data_config))
    video = test.batch(range(offset, min(offset + num, len(test))))["video"].to(device)
    return model, video


def _out(args, name: str) -> Path:
    return Path(args.out) if args.out else Path(args.run) / "figures" / name


def cmd_reconstruct(args) -> int:
    from .eval.figures import reconstruction_grid  # noqa: PLC0415

    model, video = _run_and_test_clips(args, args.num)
    paths = reconstruction_grid({model.name: model}, video, _out(args, "reconstruction.gif"))
    print(f"wrote {' and '.join(map(str, paths))} (top: test clips, bottom: reconstructions)")
    return 0


def cmd_swap(args) -> int:
    from . import test_set as vidis_test_set  # noqa: PLC0415
    from .eval.figures import swap_grid  # noqa: PLC0415

    model, video = _run_and_test_clips(args, args.num)
    paths = swap_grid(model, video, _out(args, "swap.gif"))
    print(
        f"wrote {' and '.join(map(str, paths))}: cell (i, j) = content of clip i (left column) "
        "with motion of clip j (top row)"
    )
    test = vidis_test_set(args.run)
    if getattr(test, "can_render_swaps", False) and video.shape[0] >= 2:
        from .eval.figures import swap_vs_truth_figure  # noqa: PLC0415

        n = video.shape[0]
        pairs = [(i, (i + 1) % n) for i in range(n)]
        out = _out(args, "swap.gif")
        out = out.with_name(out.stem + "_vs_truth.gif")
        paths = swap_vs_truth_figure(model, test, pairs, out, device=video.device)
        print(
            f"wrote {' and '.join(map(str, paths))}: per pair, A, B, the true swap (A's content on "
            "B's motion, rendered by the dataset) and the model's swap"
        )
    return 0


def cmd_interpolate(args) -> int:
    from .eval.figures import interpolation_grid  # noqa: PLC0415

    model, video = _run_and_test_clips(args, 2 * args.num)
    groups = getattr(model, "latent_groups", None) or ("content", "motion")
    if args.factor not in groups:
        raise ConfigError(
            f"--factor must be one of {', '.join(groups)} for {model.name}, got {args.factor!r}"
        )
    if video.shape[0] < 2:
        raise ConfigError("interpolate needs at least 2 test clips")
    half = video.shape[0] // 2
    out = _out(args, f"interpolate_{args.factor}.gif")
    paths = interpolation_grid(model, video[:half], video[half : 2 * half], args.factor, out, args.steps)
    print(
        f"wrote {' and '.join(map(str, paths))}: each row moves the {args.factor} from the left clip "
        f"to the right clip in {args.steps} steps"
    )
    return 0


def cmd_predict(args) -> int:
    from . import load_model  # noqa: PLC0415
    from .eval.prediction import best_and_random, prediction_figure, prediction_test_set  # noqa: PLC0415

    device = resolve_device(args.device)
    model = load_model(args.run, device=device)
    model.require("predict")
    context = args.context or getattr(model.config, "context_frames", None)
    if not context:
        raise ConfigError(f"{model.name} declares no context_frames: give --context")
    test = prediction_test_set(args.run, context + args.horizon)
    video = test.batch(range(min(args.num, len(test))))["video"].to(device)
    rows = best_and_random(model, video, context, args.samples, args.random, seed=args.seed)
    out = Path(args.out) if args.out else Path(args.run) / "figures"
    paths = prediction_figure(video, rows, out / "prediction.gif")
    print(
        f"wrote {' and '.join(map(str, paths))}: {video.shape[0]} test clips, {context} observed and "
        f"{args.horizon} predicted frames; rows: ground truth, the best of {args.samples} samples "
        f"(highest SSIM over the predicted frames), {len(rows) - 1} random samples"
    )
    return 0


def cmd_judge_train(args) -> int:
    from .eval.judge import judge_path, train_judge  # noqa: PLC0415

    options = data_options_from_sets(args.set)
    settings = {"steps": args.steps} if args.steps else {}
    path = judge_path(args.data, options, quick=args.quick, **settings)
    if path.exists() and not args.overwrite:
        print(f"a judge for {args.data} is already cached at {path} (use --overwrite to retrain)")
        return 0
    _, report = train_judge(
        args.data,
        options,
        quick=args.quick,
        device=resolve_device(args.device),
        progress=not args.no_progress,
        **settings,
    )
    rows = [("factor", "accuracy on real test clips", "chance")]
    chance = report.get("chance", {})
    for name, value in report["factor_accuracy"].items():
        rows.append((name, fmt(value), fmt(chance.get(name)) if isinstance(chance, dict) else ""))
    print_rows(rows, right={1, 2})
    print(f"saved to {path}")
    return 0


def cmd_reproduce(args) -> int:
    import importlib  # noqa: PLC0415
    import inspect  # noqa: PLC0415

    from .config import parse_set_args  # noqa: PLC0415
    from .papers import PAPERS  # noqa: PLC0415

    if args.paper not in PAPERS:
        raise ConfigError(f"no reproduction for paper {args.paper!r}; available: {', '.join(PAPERS)}")
    paper = importlib.import_module(PAPERS[args.paper])
    options = {"reuse": args.reuse} if "reuse" in inspect.signature(paper.reproduce).parameters else {}
    if args.reuse and not options:
        raise ConfigError(f"paper {args.paper}'s reproduction has no --reuse")
    if args.tables:
        if "tables" not in inspect.signature(paper.reproduce).parameters:
            raise ConfigError(f"paper {args.paper}'s reproduction has no --tables (it reproduces all it has)")
        options["tables"] = args.tables
    if args.data:
        if "datasets" not in inspect.signature(paper.reproduce).parameters:
            raise ConfigError(f"paper {args.paper}'s reproduction has no --data (it uses its own datasets)")
        options["datasets"] = tuple(args.data)
    paper.reproduce(
        preset=args.preset,
        out=args.out,
        num_clips=args.num_clips,
        device=resolve_device(args.device),
        progress=not args.no_progress,
        overrides=parse_set_args(args.set),
        judge_steps=args.judge_steps,
        **options,
    )
    out = Path(args.out)
    tables = sorted(out.glob("table*.md"))
    for path in tables:
        print(path.read_text())
    written = ", ".join(path.name for path in tables)
    print(f"wrote in {out}: {written or 'no table'}, results.json, figures/ and report.html")
    return 0


def cmd_leaderboard(args) -> int:
    from .eval.leaderboard import run_leaderboard  # noqa: PLC0415

    split = lambda text: [n.strip() for n in text.split(",") if n.strip()] if text else None  # noqa: E731
    pairs = run_leaderboard(
        preset=args.preset,
        out=args.out,
        datasets=split(args.data),
        models=split(args.models),
        num_clips=args.num_clips,
        reuse=args.reuse,
        device=resolve_device(args.device) and args.device,  # checked here; "auto" stays in the run specs
        progress=not args.no_progress,
        judge_steps=args.judge_steps,
        with_variants=args.variants,
        steps=args.steps,
        batch_size=args.batch_size,
        seed=args.seed,
        train=not args.no_train,
    )
    out = Path(args.out)
    print((out / "leaderboard.md").read_text())
    counts = {s: sum(p.status == s for p in pairs) for s in ("done", "failed", "does not fit")}
    print(f"{counts['done']} pairs scored, {counts['failed']} failed, {counts['does not fit']} do not fit; "
          f"wrote in {out}: leaderboard.md, leaderboard.csv, leaderboard.json, report.html")
    return 0


def cmd_report(args) -> int:
    from .eval.run_report import write_run_report  # noqa: PLC0415
    from .train.spec import check_run_dir  # noqa: PLC0415

    print(f"wrote {write_run_report(check_run_dir(args.run))}")
    return 0

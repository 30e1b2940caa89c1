"""The leaderboard: every registered model on every dataset it fits, trained with the same budget
and scored by the same protocols on the same test clips (`vidis leaderboard`, docs/leaderboard.md).

For each (model, dataset) pair, in order:

1. Fit. The model's preset (`--preset`, or a declared variant `{preset}-{suffix}` with
   `--variants`) is built for the dataset's video shape with the leaderboard's data options
   (the same for every model: the dataset's defaults and `DATA_OPTIONS[preset]`, never a model
   preset's data keys). Any VidisError (ConfigError, CapabilityError, ...) is the reason the
   pair does not fit; so is a prediction model whose context is not shorter than the clips.
2. Train, with the same budget: `BUDGETS[preset]` clips through training steps (steps x batch
   size, summed over a model's declared stages, each at its own batch size and counting every
   clip of a multi-clip item; `training_clips`), the same seed and the model's own learning rate
   and settings, into the run folder `OUT/<data>/<row>` (`papers.runs.train_spec`: reused when
   finished, resumed when not, refused when its settings differ unless `reuse`). A staged model
   keeps its stages' shares: `VideoModel.scaled_stages` scales them to the budget (one that
   does not scale sees its stages cut by the trainer's rule); the json says the clips of each
   stage.
3. Evaluate on the first `num_clips` clips of the dataset's fixed test split: every protocol of
   `eval.protocols` that applies (judged ones with the dataset's judge; the quick judge at
   `smoke`), judged swaps of clip i's content with clip i+1's motion for any dataset (content
   kept, motion followed, each leaked), paper 002's D-score (eq. 19, `eval.dscore`) of the
   model's declared content/motion split and, where the latent has at most 8 features per frame,
   the best split, generation scores (judge-FD, IS, H(y|x), H(y) of the static factors) for
   models that can generate, the parameter count, and training clips/s and wall time from
   log.csv. Each measurement that fails is an error cell; the others stand.

A pair that fails to train (NaN, exception) is a "failed" row with its message; the rest go
on. Results are written after every pair (`OUT/leaderboard.{md,csv,json}`, `OUT/report.html`;
`leaderboard_tables`), so an interrupted leaderboard shows what it has and continues when run
again.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..config import to_dict, update
from ..errors import ConfigError, RunInUseError, VidisError
from ..registry import DATASETS, MODELS, _load_all, get_dataset_class, get_model_class
from ..train.spec import RunSpec, build_model, make_spec
from .leaderboard_eval import cached_references
from .leaderboard_tables import COLUMNS, write_tables

__all__ = ["BUDGETS", "COLUMNS", "Pair", "run_leaderboard", "training_clips"]

# clips through training per pair: steps x batch size (train.steps is solved per model so that its
# stages' clips add up to at least steps x batch_size; see `budget_steps`)
BUDGETS = {"smoke": (4, 4), "small": (2000, 16), "paper": (10000, 32)}
# data options of every pair, on top of the dataset's defaults: "*" for every dataset (keys a
# dataset lacks are skipped), then a dataset's own. small: Moving MNIST at 10 frames (its default
# 20 doubles every model's cost; 10 leaves 5 context and 5 predicted frames for the predictors)
DATA_OPTIONS = {
    "smoke": {"*": {"num_frames": 6, "num_val": 16, "num_test": 16}},
    "small": {"moving_mnist": {"num_frames": 10}},
    "paper": {},
}
NUM_CLIPS = {"smoke": 16, "small": 500, "paper": 1000}  # test clips scored per pair
PREDICTION_SAMPLES = {"smoke": 3, "small": 20, "paper": 100}  # samples per clip for best-of-N
EVAL_VERSION = 1  # bump when the evaluation changes: cached evaluations are then redone
DSCORE_MAX_FEATURES = 8  # the best split over all divisions only up to this many features

@dataclasses.dataclass
class Pair:
    """One row: `row` is the model's name, or `model-suffix` for a declared variant."""

    data: str
    model: str
    row: str
    preset: str
    status: str = "pending"  # "fits", "does not fit", "failed", "done"
    reason: str = ""
    spec: RunSpec | None = None
    stage_clips: dict = dataclasses.field(default_factory=dict)
    results: dict = dataclasses.field(default_factory=dict)


# -- datasets, models, budget -----------------------------------------------------------------------


def default_datasets() -> list[str]:
    """Registered datasets whose test split builds with its default options (procedural ones:
    a dataset that needs files on disk raises and is left out)."""
    from ..data import eval_dataset  # noqa: PLC0415

    _load_all()
    names = []
    for name in sorted(DATASETS):
        try:
            eval_dataset(name, "test", num_test=1) if _has_field(name, "num_test") else eval_dataset(name)
        except (VidisError, OSError):
            continue
        names.append(name)
    return names


def _has_field(data: str, key: str) -> bool:
    return key in {f.name for f in dataclasses.fields(get_dataset_class(data).Config)}


def data_options(data: str, preset: str) -> dict:
    """The leaderboard's data options for `data` at `preset`: DATA_OPTIONS keys the dataset has."""
    options = DATA_OPTIONS.get(preset, {})
    merged = {**options.get("*", {}), **options.get(data, {})}
    return {k: v for k, v in merged.items() if _has_field(data, k)}


def training_clips(stages, steps: int, batch_size: int) -> dict[str, int]:
    """{stage name: clips} of a run of `steps` steps ("" without stages), by the trainer's rule
    (`Trainer.stage_bounds`): a stage ends after its steps or at `steps`; the last runs to `steps`.
    A stage whose items hold several clips (`Stage.clips_per_item`) counts each of them."""
    if not stages:
        return {"": steps * batch_size}
    out, start = {}, 0
    for i, stage in enumerate(stages):
        end = steps if i == len(stages) - 1 else min(steps, start + stage.steps)
        out[stage.name] = max(0, end - start) * (stage.batch_size or batch_size) * stage.clips_per_item
        start = end
    return out


def budget_steps(stages, budget: int, batch_size: int) -> int:
    """The fewest steps whose clips (summed over `stages`) reach `budget`."""
    low, high = 1, max(1, budget)
    while low < high:
        mid = (low + high) // 2
        if sum(training_clips(stages, mid, batch_size).values()) >= budget:
            high = mid
        else:
            low = mid + 1
    return low


def variants(model: str, preset: str, wanted: str | None) -> list[tuple[str, str]]:
    """[(row name, preset)]: the model at `preset`, then its declared `{preset}-{suffix}` presets
    named in `wanted` ("all" or suffixes separated by commas; None: none)."""
    rows = [(model, preset)]
    if not wanted:
        return rows
    chosen = None if wanted == "all" else {s.strip() for s in wanted.split(",")}
    for name in get_model_class(model).presets:
        suffix = name[len(preset) + 1 :] if name.startswith(f"{preset}-") else ""
        if suffix and (chosen is None or suffix in chosen):
            rows.append((f"{model}-{suffix}", name))
    return rows


def plan_pair(pair: Pair, options: dict, video_shape, steps: int, batch_size: int, seed: int, device: str):
    """Fill `pair.spec` (the budgeted run) or mark it "does not fit" with the reason."""
    from .protocols import _context_frames  # noqa: PLC0415

    try:
        spec = make_spec(pair.model, pair.data, pair.preset, {"data": options}, preset_data=False)
        spec.train = dataclasses.replace(spec.train, batch_size=batch_size, seed=seed, device=device)
        torch.manual_seed(seed)
        model = build_model(spec, video_shape)
        context = _context_frames(model) if "predict" in model.capabilities else None
        if context is not None and context >= video_shape[0]:
            raise ConfigError(f"predicts from {context} context frames; the clips have {video_shape[0]}")
        stages = model.stages(spec.train)
        budget = steps * batch_size
        if stages:  # the stages keep their shares of the model's own schedule (`scaled_stages`)
            natural = sum(training_clips(stages, spec.train.steps, batch_size).values())
            overrides = model.scaled_stages(budget / natural)
            if overrides:
                spec.model_config = update(spec.model_config, overrides, "model")
                model = build_model(spec, video_shape)
                stages = model.stages(spec.train)
        for stage in stages:  # a stage's data view must exist for this dataset
            if stage.data:
                try:
                    update(spec.data_config, stage.data, "data")
                except ConfigError as err:
                    message = f"stage {stage.name!r} reads the data view {stage.data}: {err}"
                    raise ConfigError(message) from None
        total = budget_steps(stages, budget, batch_size)
        spec.train = dataclasses.replace(
            spec.train,
            steps=total,
            eval_every=min(spec.train.eval_every, total),
            log_every=min(spec.train.log_every, total),
        )
        spec.train.validate()
        pair.stage_clips = training_clips(stages, total, batch_size)
        pair.spec, pair.status = spec, "fits"
        pair.results["params"] = model.num_parameters()
        pair.results["train_clips"] = sum(pair.stage_clips.values())
    except VidisError as err:
        pair.status, pair.reason = "does not fit", f"{type(err).__name__}: {err}"
    except Exception as err:  # noqa: BLE001  (a model that breaks on these clips: failed, the rest go on)
        pair.status, pair.reason = "failed", f"building the model: {_message(err)}"


# -- training time from log.csv ---------------------------------------------------------------------


def training_time(run_dir: Path, stages, spec: RunSpec) -> dict:
    """Seconds of training (validation excluded) and clips/s from the `clips_per_s` train rows
    of log.csv: each logged interval's clips divided by its clips/s, summed."""
    path = Path(run_dir) / "log.csv"
    if not path.exists():
        return {}
    rates = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["split"] == "train" and row["metric"] == "clips_per_s":
                rates[int(row["step"])] = float(row["value"])
    batch = spec.train.batch_size
    seconds, clips, previous = 0.0, 0, 0
    for step in sorted(rates):
        done = sum(training_clips(stages, step, batch).values())
        interval = done - sum(training_clips(stages, previous, batch).values())
        if rates[step] > 0:
            seconds += interval / rates[step]
            clips += interval
        previous = step
    if not seconds:
        return {}
    return {"train_minutes": seconds / 60, "clips_per_s": clips / seconds}


# -- the command ------------------------------------------------------------------------------------


def judge_settings(preset: str, judge_steps: int | None) -> dict:
    """The judge: `judge_steps` steps when asked, the quick judge at `smoke`, else the default."""
    if judge_steps is not None:
        return {"steps": judge_steps}
    return {"quick": True} if preset == "smoke" else {}


def run_leaderboard(
    preset: str = "small",
    out="runs/leaderboard",
    datasets: list[str] | None = None,
    models: list[str] | None = None,
    num_clips: int | None = None,
    reuse: bool = False,
    device: str = "auto",
    progress: bool = True,
    judge_steps: int | None = None,
    with_variants: str | None = None,
    steps: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    train: bool = True,
) -> list[Pair]:
    """Fit, train, evaluate and tabulate every pair (module doc); returns the pairs.

    train=False: only pairs whose run in `out` has finished are evaluated (from the cache where
    it matches); the others stay "not yet run" (tables of what a leaderboard has so far)."""
    from ..data import eval_dataset  # noqa: PLC0415
    from ..train.trainer import pick_device  # noqa: PLC0415
    from ..viz.leaderboard_html import write_leaderboard  # noqa: PLC0415
    from .judge import get_or_train_judge  # noqa: PLC0415
    from .leaderboard_eval import evaluate_run  # noqa: PLC0415

    if preset not in BUDGETS:
        raise ConfigError(f"leaderboard presets: {', '.join(BUDGETS)}; got {preset!r}")
    _load_all()
    datasets = list(datasets or default_datasets())
    models = list(models or sorted(MODELS))
    for name in models:
        get_model_class(name)  # unknown names: ConfigError listing the models
    for name in datasets:
        get_dataset_class(name)
    default_steps, default_batch = BUDGETS[preset]
    steps, batch_size = steps or default_steps, batch_size or default_batch
    num_clips = num_clips or NUM_CLIPS[preset]
    train_device, device = device, str(pick_device(device))  # the runs keep "auto" unless told
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    budget = {"steps": steps, "batch_size": batch_size, "clips": steps * batch_size, "seed": seed}
    meta = {"preset": preset, "budget": budget, "num_clips": num_clips, "device": device}
    meta |= {"judges": {}, "figures": {}, "references": {}}

    pairs: list[Pair] = []
    shapes = {}
    for data in datasets:
        options = to_dict(update(get_dataset_class(data).Config(), data_options(data, preset), "data"))
        shapes[data] = (options, eval_dataset(data, "test", **options))
        for model in models:
            for row, row_preset in variants(model, preset, with_variants):
                pair = Pair(data, model, row, row_preset)
                try:
                    get_model_class(model).preset(row_preset)
                except ConfigError as err:
                    pair.status, pair.reason = "does not fit", str(err)
                else:
                    test = shapes[data][1]
                    plan_pair(pair, options, test.video_shape, steps, batch_size, seed, train_device)
                pairs.append(pair)

    fitting = [p for p in pairs if p.status == "fits"]
    write_tables(out, pairs, meta, write_leaderboard)  # every pair listed ("not yet run") before training
    bar = tqdm(total=len(fitting), desc="leaderboard pairs", position=0, disable=not progress)
    judges = {}
    for pair in fitting:
        bar.set_postfix_str(f"{pair.row} on {pair.data}")
        options, test = shapes[pair.data]
        run_dir = out / pair.data / pair.row
        if not train and not _finished(run_dir):
            bar.update(1)
            continue
        try:
            _train(pair, run_dir, progress, reuse)
        except RunInUseError as err:  # another process trains or evaluates it: its row stays open
            _in_use(pair, err)
            bar.update(1)
            continue
        except KeyboardInterrupt:
            raise
        except Exception as err:  # noqa: BLE001  (a failing pair is reported; the rest go on)
            pair.status, pair.reason = "failed", _message(err)
            print(f"leaderboard: {pair.row} on {pair.data} failed: {pair.reason}")
            write_tables(out, pairs, meta, write_leaderboard)
            bar.update(1)
            continue
        if pair.data not in judges:
            judges[pair.data] = _judge(
                pair.data, options, device, progress, preset, judge_steps, get_or_train_judge
            )
            meta["judges"][pair.data] = _judge_meta(judges[pair.data])
        context = _eval_context(pair.data, options, preset, judge_steps, seed)
        try:
            pair.results.update(
                evaluate_run(run_dir, test, judges[pair.data], num_clips, device, context, out / pair.data)
            )
            pair.results.update(training_time(run_dir, _stages(pair.spec), pair.spec))
            pair.status = "done"
            meta["figures"][pair.data] = _comparison(out, pair.data, test, pairs)
        except RunInUseError as err:
            _in_use(pair, err)
        except KeyboardInterrupt:
            raise
        except Exception as err:  # noqa: BLE001
            pair.status, pair.reason = "failed", f"evaluation: {_message(err)}"
        write_tables(out, pairs, meta, write_leaderboard)
        bar.update(1)
    bar.close()
    for data, judge in judges.items():  # the rows that need no model, beside the pairs
        done = [p for p in pairs if p.data == data and p.status == "done"]
        predictions = [p.results.get("prediction") or {} for p in done]
        predicting = [r for r in predictions if "context_frames" in r]
        options, test = shapes[data]
        context = _eval_context(data, options, preset, judge_steps, seed)
        try:
            meta["references"][data] = cached_references(
                out / data, test, judge, num_clips, device, context, predicting[0] if predicting else None
            )
        except Exception as err:  # noqa: BLE001  (the pairs' rows stand without them)
            print(f"leaderboard: no reference rows for {data}: {_message(err)}")
    write_tables(out, pairs, meta, write_leaderboard)
    return pairs


def _eval_context(data: str, options: dict, preset: str, judge_steps, seed: int) -> dict:
    """What every pair of `data` is evaluated with (and the evaluation caches key on)."""
    return {
        "data_name": data,
        "data_options": options,
        "progress": False,
        "judge_steps": judge_steps,
        "quick_judge": preset == "smoke" and judge_steps is None,
        "num_samples": PREDICTION_SAMPLES[preset],
        "seed": seed,
    }


def _comparison(out: Path, data: str, test, pairs: list[Pair]) -> list[str]:
    """Redraw OUT/<data>/figures/swaps.{gif,png}: every finished model's swaps of the same pairs."""
    from .leaderboard_eval import SWAPS_FILE, comparison_figure  # noqa: PLC0415

    swaps = {}
    for pair in pairs:
        path = out / data / pair.row / SWAPS_FILE
        if pair.data == data and pair.status == "done" and path.exists():
            swaps[pair.row] = torch.load(path, weights_only=True)
    try:
        paths = comparison_figure(test, swaps, out / data / "figures" / "swaps")
    except Exception as err:  # noqa: BLE001  (a figure never sinks the leaderboard)
        print(f"leaderboard: no comparison figure for {data}: {_message(err)}")
        return []
    return [Path(p).relative_to(out).as_posix() for p in paths]


def _in_use(pair: Pair, err: Exception):
    """A pair whose run folder another process holds stays "not yet run", saying who holds it."""
    pair.reason = f"in use by another process: {err}"
    print(f"leaderboard: {pair.row} on {pair.data} skipped: {err}")


def _message(err: Exception) -> str:
    return " ".join(f"{type(err).__name__}: {err}".split())


def _stages(spec: RunSpec):
    model = build_model(spec, _shape(spec))
    return model.stages(spec.train)


def _shape(spec: RunSpec):
    from ..data import eval_dataset  # noqa: PLC0415

    return eval_dataset(spec.data, "test", **to_dict(spec.data_config)).video_shape


def _finished(run_dir: Path) -> bool:
    from ..papers.runs import run_finished  # noqa: PLC0415

    return run_finished(run_dir)


def _train(pair: Pair, run_dir: Path, progress: bool, reuse: bool):
    from ..papers.runs import train_spec  # noqa: PLC0415

    train_spec(pair.spec, run_dir, progress, reuse=reuse, label=pair.row)


def _judge(data, options, device, progress, preset, judge_steps, get_or_train_judge):
    try:
        return get_or_train_judge(
            data, options, device=device, progress=progress, **judge_settings(preset, judge_steps)
        )
    except VidisError as err:  # a dataset without factors has no judge: judged cells stay empty
        print(f"leaderboard: no judge for {data}: {err}")
        return None


def _judge_meta(judge) -> dict:
    if judge is None:
        return {"file": None, "accuracy": {}}
    report = getattr(judge, "report", {}) or {}
    return {
        "file": str(getattr(judge, "path", "") or ""),
        "kind": report.get("kind"),
        "steps": report.get("steps"),
        "test_clips": report.get("num_test_clips"),
        "accuracy": dict(report.get("factor_accuracy", {})),
    }

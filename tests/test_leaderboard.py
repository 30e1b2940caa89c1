"""`vidis leaderboard`: fit, same budget, failures reported, rerun reuses, report renders."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from tiny_models import TinyAutoencoder, TinyStaged, registered

from vidis.cli import main
from vidis.errors import ConfigError
from vidis.eval.leaderboard import budget_steps, training_clips, training_time, variants
from vidis.eval.leaderboard_tables import COLUMNS, markdown
from vidis.types import ModelOutput, Stage
from vidis.viz.tables import parse_markdown_table


class TinyNaN(TinyAutoencoder):
    """Trains to a NaN loss: the trainer stops it with TrainingDiverged."""

    def loss(self, batch, step):
        out = super().loss(batch, step)
        return ModelOutput(out.loss * float("nan"), out.terms)


class TinyColour(TinyAutoencoder):
    """Refuses grey clips, as a model built for RGB data would."""

    def __init__(self, config, video_shape):
        if video_shape[1] != 3:
            raise ConfigError(f"tiny_colour needs 3 channels, got {video_shape[1]}")
        super().__init__(config, video_shape)


class TinyBroken(TinyAutoencoder):
    """Breaks while being built (not a vidis error): a failed pair, not a crashed leaderboard."""

    def __init__(self, config, video_shape):
        raise RuntimeError("a bug in this model")


MODELS = {"tiny_lb": TinyAutoencoder, "tiny_lb_staged": TinyStaged, "tiny_lb_nan": TinyNaN,
          "tiny_lb_colour": TinyColour, "tiny_lb_broken": TinyBroken}
COMMAND = ["leaderboard", "--preset", "smoke", "--data", "moving_mnist", "--models", ",".join(MODELS),
           "--judge-steps", "2", "--num-clips", "8", "--device", "cpu", "--no-progress"]


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    """One smoke leaderboard through the CLI (and its rerun), shared by the tests below."""
    out = tmp_path_factory.mktemp("leaderboard")
    with pytest.MonkeyPatch.context() as patch, registered(**MODELS):
        patch.setenv("VIDIS_CACHE", str(out.parent / "cache"))
        assert main([*COMMAND, "--out", str(out)]) == 0
        first = {p: p.stat().st_mtime_ns for p in out.glob("moving_mnist/*/checkpoints/last.pt")}
        assert main([*COMMAND, "--out", str(out)]) == 0
        second = {p: p.stat().st_mtime_ns for p in out.glob("moving_mnist/*/checkpoints/last.pt")}
    return out, first, second


def _rows(out: Path, references: bool = False) -> dict[str, dict]:
    """The csv's pair rows (or its reference rows) by name."""
    with open(out / "leaderboard.csv", newline="") as f:
        return {r["model"]: r for r in csv.DictReader(f) if (r["status"] == "reference") == references}


def test_cli_one_row_per_fitting_pair_and_a_reason_for_the_rest(board):
    out, _, _ = board
    rows = _rows(out)
    assert set(rows) == set(MODELS)
    assert rows["tiny_lb"]["status"] == rows["tiny_lb_staged"]["status"] == "done"
    assert rows["tiny_lb_colour"]["status"] == "does not fit"
    assert "needs 3 channels" in rows["tiny_lb_colour"]["reason"]
    for name in ("tiny_lb", "tiny_lb_staged"):  # same clip budget: 4 steps x 4 clips at smoke
        assert int(rows[name]["train_clips"]) == 16
        assert float(rows[name]["test.mse"]) > 0
        assert 0 <= float(rows[name]["swaps.content_accuracy"]) <= 1
    table = parse_markdown_table((out / "leaderboard.md").read_text())
    assert table[0][:2] == ["model", "status"]
    pair_rows = [r[0] for r in table[1:] if r[1] != "reference"]
    assert sorted(pair_rows) == ["tiny_lb", "tiny_lb_broken", "tiny_lb_nan", "tiny_lb_staged"]
    text = (out / "leaderboard.md").read_text()
    assert "tiny_lb_colour: does not fit: ConfigError: tiny_colour needs 3 channels" in text
    assert "16 clips (4 steps x batch 4" in text and "its own accuracy on" in text
    pairs = json.loads((out / "leaderboard.json").read_text())["pairs"]
    with Image.open(out / "moving_mnist" / "figures" / "swaps.gif") as gif:  # A, B, truth, 2 models
        assert gif.height == 2 * (5 * (64 + 2) + 2)  # 5 rows of 64-pixel clips, 2-pixel borders, x2
    staged = next(p for p in pairs if p["row"] == "tiny_lb_staged")
    assert staged["stage_clips"] == {"pretrain": 12, "decoder": 4}  # 3 steps x 4, then 2 x 2


def test_a_failing_pair_is_reported_and_the_others_go_on(board):
    out, _, _ = board
    rows = _rows(out)
    assert rows["tiny_lb_nan"]["status"] == "failed"
    assert "TrainingDiverged" in rows["tiny_lb_nan"]["reason"]
    assert rows["tiny_lb_broken"]["status"] == "failed"
    assert rows["tiny_lb_broken"]["reason"] == "building the model: RuntimeError: a bug in this model"
    assert rows["tiny_lb_staged"]["status"] == "done"  # trained after the failing one
    assert "tiny_lb_nan: failed: TrainingDiverged" in (out / "leaderboard.md").read_text()


def test_reference_rows_score_what_needs_no_model(board):
    """The rows 'ref: ...' beside the pairs, checked by construction on the same 8 test clips."""
    from vidis.data import eval_dataset

    out, _, _ = board
    refs, pairs = _rows(out, references=True), _rows(out)
    assert set(refs) == {"ref: copy of A", "ref: copy of B", "ref: all black"}
    test = eval_dataset("moving_mnist", "test", num_frames=6, num_val=16, num_test=16)
    clips = test.batch(range(8))["video"]
    black = float(refs["ref: all black"]["test.mse"])
    assert black == pytest.approx(float(clips.double().pow(2).mean()), rel=1e-6)  # MSE of zeros: mean x^2
    for name, key in (("ref: copy of A", "copy_a"), ("ref: copy of B", "copy_b")):  # pairs: gt_swaps.copy_*
        expected = float(pairs["tiny_lb"][f"gt_swaps.{key}_mse"])
        assert float(refs[name]["gt_swaps.swap_mse"]) == pytest.approx(expected)
    a, b = refs["ref: copy of A"], refs["ref: copy of B"]
    # B runs over the same clips as A (clip i + 1's motion): reading A's motion in a copy of A is
    # reading B's motion in a copy of B, and the same for content
    assert float(a["swaps.motion_from_content_source"]) == pytest.approx(float(b["swaps.motion_accuracy"]))
    assert float(a["swaps.content_accuracy"]) == pytest.approx(float(b["swaps.content_from_motion_source"]))
    text = (out / "leaderboard.md").read_text()
    assert "| ref: copy of A | reference |" in text and "Rows 'ref: ...' need no model" in text
    assert "references" in json.loads((out / "leaderboard.json").read_text())


def test_prediction_references_use_a_predicting_pairs_context(tmp_path):
    from vidis.data import eval_dataset
    from vidis.eval.leaderboard_eval import reference_rows
    from vidis.eval.prediction import trivial_predictions

    options = {"num_frames": 6, "num_test": 8}
    test = eval_dataset("moving_mnist", "test", **options)
    context = {"data_name": "moving_mnist", "data_options": options}
    prediction = {"context_frames": 2, "horizon": 6, "train_horizon": 4}  # 2 frames beyond the clips
    rows = reference_rows(test, None, 8, "cpu", context, prediction)
    longer = eval_dataset("moving_mnist", "test", **{**options, "num_frames": 8})
    curve = trivial_predictions(longer, 2, 8)["last_frame"]["per_frame"]["ssim"]
    last = rows["ref: last frame"]["prediction"]
    assert last["best_ssim_train_horizon"] == last["mean_ssim_train_horizon"]  # one output: best = mean
    assert last["best_ssim_train_horizon"] == pytest.approx(sum(curve[:4]) / 4)
    assert last["best_ssim_beyond"] == pytest.approx(sum(curve[4:]) / 2)
    black = trivial_predictions(longer, 2, 8)["black"]["per_frame"]["ssim"]  # SSIM of black frames is high
    assert rows["ref: all black"]["prediction"]["best_ssim_beyond"] == pytest.approx(sum(black[4:]) / 2)
    assert "swaps" not in rows["ref: copy of A"]  # no judge: no judged columns


def test_rerun_reuses_finished_runs(board):
    out, first, second = board
    assert len(first) == 2 and first == second  # neither checkpoint rewritten
    assert _rows(out)["tiny_lb"]["status"] == "done"


def test_no_train_scores_finished_runs_and_trains_nothing(board, tmp_path):
    out, first, _ = board
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    command = [*COMMAND[:6], "tiny_lb,tiny_lb_nan", *COMMAND[7:], "--no-train"]
    with pytest.MonkeyPatch.context() as patch, registered(**MODELS):
        patch.setenv("VIDIS_CACHE", str(out.parent / "cache"))
        assert main([*command, "--out", str(copy)]) == 0  # tiny_lb finished, tiny_lb_nan never did
        assert main([*command, "--out", str(tmp_path / "empty")]) == 0
    rows = _rows(copy)
    assert rows["tiny_lb"]["status"] == "done" and float(rows["tiny_lb"]["test.mse"]) > 0
    assert rows["tiny_lb_nan"]["status"] == "not yet run"
    assert _rows(tmp_path / "empty")["tiny_lb"]["status"] == "not yet run"
    assert not list((tmp_path / "empty").glob("*/*/checkpoints"))


def test_a_run_another_process_holds_is_neither_trained_nor_evaluated_twice(board, tmp_path):
    from test_run_lock import hold_in_another_process

    import vidis.eval.leaderboard_eval as leaderboard_eval

    out, _, _ = board
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    run = copy / "moving_mnist" / "tiny_lb"
    (run / leaderboard_eval.EVAL_FILE).unlink()  # finished, not yet evaluated
    command = [*COMMAND[:6], "tiny_lb", *COMMAND[7:], "--no-train", "--out", str(copy)]
    child = hold_in_another_process(run)  # e.g. a second leaderboard evaluating it right now
    try:
        with pytest.MonkeyPatch.context() as patch, registered(**MODELS):
            patch.setenv("VIDIS_CACHE", str(out.parent / "cache"))
            assert main(command) == 0
    finally:
        child.stdin.close()
        child.wait(timeout=30)
    row = _rows(copy)["tiny_lb"]
    assert row["status"] == "not yet run" and f"is in use: process {child.pid}" in row["reason"]
    assert not (run / leaderboard_eval.EVAL_FILE).exists()

    seen = []
    measure = leaderboard_eval.measure

    def measure_and_read_the_lock(*args, **kwargs):
        seen.append((run / ".lock").read_text())
        return measure(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch, registered(**MODELS):
        patch.setenv("VIDIS_CACHE", str(out.parent / "cache"))
        patch.setattr(leaderboard_eval, "measure", measure_and_read_the_lock)
        assert main(command) == 0  # the holder is gone: evaluated now, under this process's lock
    assert len(seen) == 1 and seen[0].startswith(f"process {os.getpid()} on ") and "evaluating" in seen[0]
    assert _rows(copy)["tiny_lb"]["status"] == "done" and (run / ".lock").read_text() == ""


def test_best_value_of_each_column_in_bold():
    rows = [
        {"data": "d", "model": "a", "status": "done", "reason": "", "test.mse": 0.5, "test.ssim": 0.2},
        {"data": "d", "model": "b", "status": "done", "reason": "", "test.mse": 0.1, "test.ssim": 0.1},
        {"data": "d", "model": "c", "status": "does not fit", "reason": "too big"},
    ]
    meta = {"preset": "smoke", "budget": {"clips": 16, "steps": 4, "batch_size": 4, "seed": 0},
            "num_clips": 8, "judges": {}}
    table = parse_markdown_table(markdown(rows, meta))
    labels = table[0]
    mse, ssim = labels.index("recon MSE"), labels.index("recon SSIM")
    by_model = {r[0]: r for r in table[1:]}
    assert set(by_model) == {"a", "b"}
    assert by_model["b"][mse] == "**0.1**" and by_model["a"][mse] == "0.5"
    assert by_model["a"][ssim] == "**0.2**" and by_model["b"][ssim] == "0.1"
    assert len(labels) == 2 + len(COLUMNS)


def test_budget_sums_clips_over_stages():
    stages = [Stage("pretrain", steps=3), Stage("decoder", batch_size=2)]
    assert training_clips([], 4, 4) == {"": 16}
    assert training_clips(stages, 5, 4) == {"pretrain": 12, "decoder": 4}
    assert training_clips(stages, 2, 4) == {"pretrain": 8, "decoder": 0}  # cut at train.steps
    assert budget_steps(stages, 16, 4) == 5
    assert budget_steps(stages, 17, 4) == 6  # the fewest steps reaching the budget
    assert budget_steps([], 16, 4) == 4
    grouped = [Stage("pretrain", steps=3, data={"clips_per_identity": 2}), Stage("decoder")]
    assert training_clips(grouped, 5, 4) == {"pretrain": 24, "decoder": 8}  # items of 2 clips count 2


def test_a_staged_model_keeps_its_stage_shares_within_the_budget():
    """vdsm's small preset: stage 1 reads 2-clip items for 1,500 steps, stage 2 runs 1,500 steps
    (72,000 clips at batch 16). The small budget (32,000) scales both stages and their schedules by
    the same factor instead of spending it all in stage 1."""
    from vidis.config import to_dict, update
    from vidis.eval.leaderboard import Pair, data_options, plan_pair
    from vidis.registry import get_dataset_class

    shapes = {"sprites": (8, 3, 64, 64), "moving_mnist": (20, 1, 64, 64)}
    pairs = {}
    for data, shape in shapes.items():
        options = to_dict(update(get_dataset_class(data).Config(), data_options(data, "small"), "data"))
        pairs[data] = Pair(data, "vdsm", "vdsm", "small")
        plan_pair(pairs[data], options, shape, 2000, 16, 0, "cpu")
    sprites = pairs["sprites"]
    assert sprites.status == "fits", sprites.reason
    assert sprites.spec.model_config.pretrain_steps == sprites.spec.model_config.sequence_steps == 667
    assert sprites.stage_clips == {"pretrain": 667 * 16 * 2, "sequence": (1333 - 667) * 16}
    assert sum(sprites.stage_clips.values()) >= 32000
    mnist = pairs["moving_mnist"]  # Moving MNIST has no items of several clips of one identity
    assert mnist.status == "does not fit" and "clips_per_identity" in mnist.reason


def test_training_time_from_log(tmp_path):
    log = "step,split,metric,value\n2,train,clips_per_s,8\n2,val,loss,1\n4,train,clips_per_s,4\n"
    (tmp_path / "log.csv").write_text(log)
    spec = type("Spec", (), {"train": type("Train", (), {"batch_size": 4})()})()
    timing = training_time(tmp_path, [], spec)  # 8 clips at 8/s, then 8 clips at 4/s: 3 s
    assert timing["train_minutes"] == pytest.approx(3 / 60)
    assert timing["clips_per_s"] == pytest.approx(16 / 3)


def test_declared_variants():
    assert variants("dvae", "smoke", None) == [("dvae", "smoke")]
    assert variants("dvae", "smoke", "pooled") == [("dvae", "smoke"), ("dvae-pooled", "smoke-pooled")]
    assert ("dvae-pooled", "small-pooled") in variants("dvae", "small", "all")
    assert variants("frame_vae", "smoke", "all") == [("frame_vae", "smoke")]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


PROBE = """<script>
window.addEventListener('load', function () {
  var images = Array.from(document.images);
  var broken = images.filter(function (i) { return !i.complete || i.naturalWidth === 0; });
  var rows = Array.from(document.querySelectorAll('table.sortable')).map(function (t) {
    return t.tBodies[0].rows.length; });
  var th = document.querySelector('table.sortable th');
  th.click();
  var order = Array.from(document.querySelectorAll('table.sortable tbody tr')).map(function (tr) {
    return tr.cells[0].textContent; });
  var p = document.createElement('pre'); p.id = 'probe';
  p.textContent = JSON.stringify({images: images.length, broken: broken.length, rows: rows, order: order});
  document.body.appendChild(p);
});
</script>"""


def test_report_renders_in_headless_chromium(board, tmp_path):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no chromium executable on PATH (Debian package `chromium`; .ci/run installs it)")
    out, _, _ = board
    page = out / "probe.html"  # the report plus a probe script, beside it so relative images resolve
    page.write_text((out / "report.html").read_text().replace("</body>", PROBE + "</body>"))
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path}",
         "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)},
    )
    found = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout)
    assert found, result.stderr[-2000:]
    probe = json.loads(found.group(1).replace("&quot;", '"'))
    references = ["ref: all black", "ref: copy of A", "ref: copy of B"]  # no predicting pair: no last frame
    assert probe["rows"] == [4 + len(references)]  # one row per pair that fits (done or failed), one table
    assert probe["images"] == 1 and probe["broken"] == 0  # the dataset's swaps of every trained model
    names = ["tiny_lb", "tiny_lb_broken", "tiny_lb_nan", "tiny_lb_staged", *references]
    assert probe["order"] == sorted(names)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--models", "nope", "--data", "moving_mnist"], "unknown model 'nope'"),
        (["--models", "frame_vae", "--data", "nope"], "unknown dataset 'nope'"),
    ],
)
def test_unknown_names_are_one_error_line(argv, message, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["leaderboard", "--preset", "smoke", "--out", str(out), "--no-progress", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("vidis: error:") == 1 and message in err
    assert not out.exists()  # refused before any work


def test_a_model_preset_data_section_never_reaches_the_leaderboard():
    """avlae's smoke preset draws 16-pixel frames, too small for Moving MNIST's 28-pixel digits;
    the leaderboard gives every model the same data, so the pair fits at the data's own size."""
    from vidis.config import to_dict, update
    from vidis.eval.leaderboard import Pair, data_options, plan_pair
    from vidis.registry import get_dataset_class

    defaults = get_dataset_class("moving_mnist").Config()
    options = to_dict(update(defaults, data_options("moving_mnist", "smoke"), "data"))
    pair = Pair("moving_mnist", "avlae", "avlae", "smoke")
    plan_pair(pair, options, (6, 1, 64, 64), 4, 4, 0, "cpu")
    assert pair.status == "fits", pair.reason
    assert pair.spec.data_config.image_size == 64 and pair.spec.data_config.num_frames == 6

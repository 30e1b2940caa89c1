"""Judge protocol (vidis.eval.judge) and paper 000's scores (vidis.eval.disentanglement)."""

import io
import pickle
import sys

import pytest
import torch

from vidis.data import eval_dataset, make_dataset
from vidis.data.moving_mnist import MovingMNIST
from vidis.errors import VidisError
from vidis.eval import judge as judge_module
from vidis.eval import judge_scores
from vidis.eval.disentanglement import (
    average_frame_similarity,
    motion_energy,
    paper000_scores,
    swap_partner,
)
from vidis.eval.judge import (
    LOG_FILE_BAR_INTERVAL,
    QUICK_STEPS,
    Judge,
    get_or_train_judge,
    judge_kind,
    judge_path,
    judge_settings,
    load_judge,
    save_judge,
    train_judge,
)
from vidis.eval.judge_nets import DEFAULT_OPTIONS, exchangeable_groups
from vidis.eval.judge_scores import content_set_accuracy, describe_judge, judge_accuracy, judge_swaps
from vidis.types import Factor, Latents

SMOKE = {"num_frames": 6, "num_test": 60}
TINY = {"channels": [4, 8, 8, 8], "depth": 1, "local": 8, "feature_dim": 16, "hidden": 8}


@pytest.fixture(scope="module")
def smoke_test_set():
    return make_dataset("moving_mnist", "test", 0, **SMOKE)


def tiny_judge(dataset):
    torch.manual_seed(0)
    return Judge(dataset.factors, dataset.video_shape, **TINY).eval()


def test_judge_shapes_per_clip_and_per_frame(smoke_test_set):
    judge = tiny_judge(smoke_test_set)
    video = smoke_test_set.batch(range(3))["video"]  # (3, 6, 1, 64, 64)
    logits = judge(video)
    assert set(logits) == {f.name for f in smoke_test_set.factors}  # a head per declared factor
    assert logits["digit0"].shape == (3, 10)
    assert logits["direction"].shape == (3, 8)
    assert logits["cell"].shape == (3, 6, 9)  # per-frame head
    assert judge.features(video).shape == (3, judge.feature_dim)
    predicted = judge.predict(video)
    assert predicted["digit0"].shape == (3,) and predicted["cell"].shape == (3, 6)
    # The slots' logits are the joint's marginals: proper distributions over the classes.
    torch.testing.assert_close(logits["digit0"].softmax(-1).sum(-1), torch.ones(3))
    with pytest.raises(ValueError, match="expects video of shape"):
        judge(video[:, :, :, :32, :32])


def test_judge_from_any_factor_declaration():
    factors = [
        Factor("colour", "static", 3),
        Factor("action", "dynamic", 5),
        Factor("pose", "dynamic", 4, True),
        Factor("part0", "static", 3),
        Factor("part1", "static", 3),
        Factor("part2", "static", 3),
    ]
    judge = Judge(factors, (4, 3, 32, 32), channels=(4, 8), feature_dim=16, hidden=8, local=8)
    assert list(judge.groups) == ["part"]  # three exchangeable slots, decoded jointly
    logits = judge(torch.rand(2, 4, 3, 32, 32))
    assert {k: tuple(v.shape) for k, v in logits.items()} == {
        "colour": (2, 3),
        "action": (2, 5),
        "pose": (2, 4, 4),
        "part0": (2, 3),
        "part1": (2, 3),
        "part2": (2, 3),
    }
    loss = judge.loss(
        torch.rand(2, 4, 3, 32, 32),
        {"colour": torch.tensor([0, 2]), "action": torch.tensor([1, 4]), "pose": torch.zeros(2, 4).long()}
        | {f"part{k}": torch.tensor([k, 0]) for k in range(3)},
    )
    assert loss.ndim == 0 and torch.isfinite(loss)


def test_exchangeable_groups_need_consecutive_static_slots_of_equal_classes():
    digits = [Factor("digit0", "static", 10), Factor("digit1", "static", 10)]
    assert [f.name for f in exchangeable_groups(digits)["digit"]] == ["digit0", "digit1"]
    assert exchangeable_groups(digits[:1]) == {}  # one digit: voted like any static factor
    assert exchangeable_groups([digits[0], Factor("digit2", "static", 10)]) == {}  # a gap
    assert exchangeable_groups([digits[0], Factor("digit1", "static", 9)]) == {}
    assert exchangeable_groups([digits[0], Factor("digit1", "dynamic", 10)]) == {}


def test_joint_decoding_combines_the_order_free_vote_with_the_slots():
    judge = Judge([Factor("digit0", "static", 4), Factor("digit1", "static", 4)], (3, 1, 16, 16), **TINY)
    B, T, C, K = 2, 3, 4, 2
    counts = torch.full((B, T, C, K + 1), -10.0)
    counts[..., 0] = 0.0  # every class absent ...
    counts[:, :, 1, :] = torch.tensor([-10.0, 0.0, -10.0])  # ... but one 1
    counts[:, :, 3, :] = torch.tensor([-10.0, 0.0, -10.0])  # ... and one 3, in every frame
    counts[:, :, 3, 0] = 0.0  # clip 1 and 2: 3 present or not, equally (ambiguous)
    raw = {"counts:digit": counts}
    # The slots lean to 3 on the left, 1 on the right in clip 0, and would read (2, 2) in clip 1.
    raw["digit0"] = torch.tensor([[0.0, 0.0, 0.0, 2.0], [0.0, 0.0, 5.0, 0.0]])
    raw["digit1"] = torch.tensor([[0.0, 2.0, 0.0, 0.0], [0.0, 0.0, 5.0, 0.0]])
    marginals, best = judge.decode_group(raw, "digit")
    assert best[0].tolist() == [3, 1]  # the vote's multiset {1, 3}, in the slots' order
    assert sorted(best[1].tolist()) != [2, 2] and 1 in best[1].tolist()  # the vote says a 1, no 2
    torch.testing.assert_close(marginals.logsumexp(-1) - marginals.logsumexp(-1)[:, :1], torch.zeros(B, K))


def test_train_save_load_round_trip(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIDIS_CACHE", str(tmp_path))
    settings = {"steps": 12, "batch_size": 2, "judge_options": TINY}
    with pytest.raises(VidisError, match="vidis judge train --data moving_mnist --steps 12"):
        load_judge("moving_mnist", SMOKE, **settings)
    judge, report = train_judge("moving_mnist", SMOKE, progress=False, num_test_clips=20, **settings)
    announced = capsys.readouterr().err
    path = judge_path("moving_mnist", SMOKE, **settings)
    assert "training the moving_mnist judge (custom: 12 steps of 2 clips" in announced
    assert "minutes on this CPU" in announced and str(path) in announced
    assert path.is_file() and path.with_suffix(".json").is_file() and judge.path == path
    assert path.parent == tmp_path / "judges" and path.name.startswith("moving_mnist-12steps-")
    declared = {f.name for f in judge.factors}
    assert set(report["factor_accuracy"]) == declared | {"content_set", "content_all", "content_each"}
    assert set(report["chance"]) == declared
    assert report["steps"] == 12 and report["data"] == "moving_mnist" and report["kind"] == "custom"
    assert report["judge_version"] == judge_module.JUDGE_VERSION
    assert report["data_version"] == getattr(MovingMNIST, "version", 1)
    state = torch.load(path, weights_only=True)  # plain state dict + JSON metadata
    assert state["video_shape"] == [6, 1, 64, 64] and state["options"]["hidden"] == 8
    loaded = load_judge("moving_mnist", SMOKE, **settings)
    assert not loaded.training and loaded.report == report and loaded.path == path
    video = make_dataset("moving_mnist", "test", 0, **SMOKE).batch(range(4))["video"]
    with torch.no_grad():
        before, after = judge(video), loaded(video)
    for name in before:
        torch.testing.assert_close(before[name], after[name])
    assert str(path) in describe_judge(loaded) and "custom" in describe_judge(loaded)
    # once the dataset declares these settings as its default, the same cached file is its default judge
    monkeypatch.setattr(MovingMNIST, "judge_defaults", {**MovingMNIST.judge_defaults, **settings})
    assert judge_path("moving_mnist", SMOKE) == path
    assert load_judge("moving_mnist", SMOKE).report["kind"] == "default"


def test_get_or_train_judge_trains_once_then_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDIS_CACHE", str(tmp_path))
    settings = {"steps": 2, "batch_size": 2, "judge_options": TINY}
    first = get_or_train_judge(
        "moving_mnist", SMOKE, progress=False, num_test_clips=10, announce=False, **settings
    )

    def refuse(*args, **kwargs):
        raise AssertionError("a cached judge must not be retrained")

    monkeypatch.setattr(judge_module, "train_judge", refuse)
    again = get_or_train_judge("moving_mnist", SMOKE, **settings)
    assert again.path == first.path and again.report == first.report
    with pytest.raises(AssertionError, match="must not be retrained"):  # other settings: another judge
        get_or_train_judge("moving_mnist", SMOKE, **(settings | {"steps": 3}))


def test_quick_judge_is_trained_and_cached_under_its_own_key(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDIS_CACHE", str(tmp_path))
    options = {"steps": 2, "judge_options": TINY, "num_test_clips": 10, "announce": False}
    judge = get_or_train_judge("moving_mnist", SMOKE, progress=False, quick=True, **options)
    assert judge.report["batch_size"] == judge_module.QUICK_BATCH_SIZE
    assert judge.path == judge_path("moving_mnist", SMOKE, quick=True, steps=2, judge_options=TINY)
    assert judge.path != judge_path("moving_mnist", SMOKE, steps=2, judge_options=TINY)


def test_judge_path_ignores_split_sizes_not_images(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDIS_CACHE", str(tmp_path))
    assert judge_path("moving_mnist", {}) == judge_path("moving_mnist", {"num_digits": 2, "num_test": 10})
    assert judge_path("moving_mnist", {}) != judge_path("moving_mnist", {"num_frames": 10})
    steps = MovingMNIST.judge_defaults["steps"]  # the dataset declares its judge's length
    assert judge_path("moving_mnist", {}).name.startswith(f"moving_mnist-{steps}steps-")


def test_judge_cache_key_holds_the_judges_settings_and_the_dataset_version(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDIS_CACHE", str(tmp_path))
    default = judge_path("moving_mnist", {})
    explicit = judge_path(
        "moving_mnist", {}, steps=MovingMNIST.judge_defaults["steps"],
        batch_size=judge_module.DEFAULT_BATCH_SIZE, lr=judge_module.DEFAULT_LR, seed=0,
        judge_options={**DEFAULT_OPTIONS, **MovingMNIST.judge_defaults["judge_options"]},
        train_frames=MovingMNIST.judge_defaults["train_frames"],
        whole_clip_steps=MovingMNIST.judge_defaults["whole_clip_steps"],
    )  # fmt: skip
    assert explicit == default
    others = [
        judge_path("moving_mnist", {}, steps=5),
        judge_path("moving_mnist", {}, quick=True),
        judge_path("moving_mnist", {}, batch_size=8),
        judge_path("moving_mnist", {}, lr=1e-4),
        judge_path("moving_mnist", {}, seed=1),
        judge_path("moving_mnist", {}, judge_options={"hidden": 64}),
    ]
    assert len({default, *others}) == 7
    assert judge_path("moving_mnist", {}, quick=True).name.startswith(f"moving_mnist-{QUICK_STEPS}steps-")
    monkeypatch.setattr(judge_module, "JUDGE_VERSION", judge_module.JUDGE_VERSION + 1)
    assert judge_path("moving_mnist", {}) != default  # another network version
    monkeypatch.undo()
    monkeypatch.setenv("VIDIS_CACHE", str(tmp_path))
    monkeypatch.setattr(MovingMNIST, "version", getattr(MovingMNIST, "version", 1) + 1, raising=False)
    assert judge_path("moving_mnist", {}) != default  # the dataset's clips or labels changed
    assert judge_kind(judge_settings()) == "default" and judge_kind(judge_settings(quick=True)) == "quick"
    assert judge_kind(judge_settings(steps=5)) == "custom"
    with pytest.raises(VidisError, match="steps must be an integer >= 1"):
        judge_path("moving_mnist", {}, steps=0)
    with pytest.raises(VidisError, match="unknown judge options"):
        judge_path("moving_mnist", {}, judge_options={"layers": 3})
    assert judge_path("moving_mnist", {}, train_frames=4) != default  # trained on fewer frames
    with pytest.raises(VidisError, match="train_frames must be an integer >= 0"):
        judge_path("moving_mnist", {}, train_frames=-1)
    assert judge_path("moving_mnist", {}, whole_clip_steps=5) != default
    with pytest.raises(VidisError, match="whole_clip_steps must be an integer >= 0"):
        judge_path("moving_mnist", {}, whole_clip_steps=-2)


def test_dataset_declared_judge_defaults_make_its_default_judge(monkeypatch):
    """A dataset's `judge_defaults` replace the global defaults for its default judge only."""
    declared = {"steps": 77, "judge_options": {"hidden": 32}, "train_frames": 3}
    global_default = judge_settings(data_name="moving_mnist")
    monkeypatch.setattr(MovingMNIST, "judge_defaults", declared, raising=False)
    settings = judge_settings(data_name="moving_mnist")
    assert settings["steps"] == 77 and settings["train_frames"] == 3
    assert settings["judge_options"] == {**DEFAULT_OPTIONS, "hidden": 32}
    assert settings != global_default and judge_kind(settings, "moving_mnist") == "default"
    assert judge_kind(settings) == "custom"  # not the global default
    assert judge_settings(quick=True, data_name="moving_mnist")["steps"] == QUICK_STEPS
    assert judge_path("moving_mnist", {}).name.startswith("moving_mnist-77steps-")
    monkeypatch.setattr(MovingMNIST, "judge_defaults", {"layers": 3}, raising=False)
    with pytest.raises(VidisError, match="unknown judge_defaults"):
        judge_settings(data_name="moving_mnist")


def test_judge_trained_on_leading_frames_is_tested_on_whole_clips(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDIS_CACHE", str(tmp_path))
    seen = []
    original = Judge.loss

    def spy(self, video, factors):
        seen.append((video.shape[1], factors["cell"].shape[1]))
        return original(self, video, factors)

    monkeypatch.setattr(Judge, "loss", spy)
    _, report = train_judge(
        "moving_mnist",
        SMOKE,
        steps=3,
        batch_size=2,
        train_frames=4,
        whole_clip_steps=1,
        judge_options=TINY,
        progress=False,
        save=False,
        num_test_clips=4,
        announce=False,
    )
    # Video and per-frame labels cut to the first 4 frames, then whole clips in the last step.
    assert seen == [(4, 4), (4, 4), (6, 6)]
    assert report["train_frames"] == 4 and report["whole_clip_steps"] == 1
    assert 0 <= report["factor_accuracy"]["cell"] <= 1


class Booby:
    """Unpickling this creates `marker`: proof that a load ran code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _tiny_saved_judge(path):
    dataset = make_dataset("moving_mnist", "test", 0, **SMOKE)
    save_judge(tiny_judge(dataset), {"kind": "custom"}, path, judge_settings(steps=1))
    return path.read_bytes()


@pytest.mark.parametrize("damage", ["truncated", "random", "booby-trapped", "not a judge", "old version"])
def test_damaged_or_foreign_judge_cache_is_a_clear_error_and_runs_nothing(tmp_path, monkeypatch, damage):
    monkeypatch.setenv("VIDIS_CACHE", str(tmp_path))
    path = judge_path("moving_mnist", SMOKE)
    path.parent.mkdir(parents=True)
    marker = tmp_path / "ran"
    good = _tiny_saved_judge(tmp_path / "good.pt")
    if damage == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "random":
        path.write_bytes(
            torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(0))
            .byte()
            .numpy()
            .tobytes()
        )
    elif damage == "booby-trapped":
        live = tmp_path / "live"
        pickle.loads(pickle.dumps(Booby(live)))  # the payload is live: plain unpickling runs it
        assert live.exists()
        buffer = io.BytesIO()
        torch.save(
            {"model": Booby(marker), "factors": [], "video_shape": [], "options": {}, "report": {}}, buffer
        )
        path.write_bytes(buffer.getvalue())
    elif damage == "not a judge":
        torch.save({"weights": torch.zeros(3)}, path)
    else:
        state = torch.load(tmp_path / "good.pt", weights_only=True)
        torch.save(state | {"judge_version": 1}, path)

    def refuse(*args, **kwargs):
        raise AssertionError("a damaged cache must not be silently replaced")

    monkeypatch.setattr(judge_module, "train_judge", refuse)
    for load in (load_judge, get_or_train_judge):
        with pytest.raises(VidisError) as error:
            load("moving_mnist", SMOKE)
        message = str(error.value)
        assert str(path) in message and "is not a vidis judge or is damaged" in message
        assert "`vidis judge train --data moving_mnist --overwrite`" in message
        assert "weights_only=False" not in message and "\n" not in message
    assert not marker.exists()


def test_progress_bar_updates_rarely_in_a_log_file(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal
    bar = judge_module._progress_bar(10, "judge", True)
    assert bar.mininterval == LOG_FILE_BAR_INTERVAL >= 30
    bar.close()


def test_content_set_accuracy_treats_digits_as_exchangeable():
    predicted = torch.tensor([[3, 7], [3, 3], [1, 2]])
    target = torch.tensor([[7, 3], [3, 7], [1, 2]])
    assert content_set_accuracy(predicted, target).tolist() == [True, False, True]
    # Each digit found in the predicted multiset: 2 of 2, 1 of 2 (one 3 only), 2 of 2.
    found, total = judge_scores._found(
        {"digit0": predicted[:, 0], "digit1": predicted[:, 1]},
        {"digit0": target[:, 0], "digit1": target[:, 1]},
        [["digit0", "digit1"]],
    )
    assert (found, total) == (5, 6)


def test_judge_swaps_of_real_clips_are_the_judges_own_accuracy(smoke_test_set):
    judge = tiny_judge(smoke_test_set)
    batch = smoke_test_set.batch(range(40))
    video, factors = batch["video"], batch["factors"]
    scores = judge_swaps(judge, video, factors, factors, video)
    assert scores["judge_fd"] == pytest.approx(0.0, abs=1e-6)  # a set against itself
    own = judge_accuracy(judge, smoke_test_set, num_clips=40, batch_size=16)
    # A "swap" that is the real clip itself scores exactly what the judge scores on real clips.
    for f in judge.factors:
        assert scores[f"acc_{f.name}"] == pytest.approx(own[f.name])
    assert scores["acc_content_set"] == pytest.approx(own["content_set"])
    assert scores["content_accuracy"] == scores["acc_content_set"]
    dynamic = [scores[f"acc_{f.name}"] for f in judge.factors if f.kind == "dynamic"]
    assert scores["motion_accuracy"] == pytest.approx(sum(dynamic) / len(dynamic))
    assert scores["content_from_motion_source"] == scores["content_accuracy"]  # A is B here
    assert 1.0 <= scores["is_digit0"] <= 10.0
    assert scores["h_y_given_x_digit0"] >= 0 and scores["h_y_digit0"] >= 0
    assert scores["judge_file"] == "(not cached)" and scores["judge_kind"] == "unknown"


def test_judge_swaps_name_the_judge_and_its_own_accuracy(tmp_path, monkeypatch, smoke_test_set):
    monkeypatch.setenv("VIDIS_CACHE", str(tmp_path))
    settings = {"steps": 2, "batch_size": 2, "judge_options": TINY}
    judge = get_or_train_judge(
        "moving_mnist", SMOKE, progress=False, num_test_clips=20, announce=False, **settings
    )
    batch = smoke_test_set.batch(range(6))
    scores = judge_swaps(judge, batch["video"], batch["factors"], batch["factors"], None)
    assert scores["judge_file"] == str(judge_path("moving_mnist", SMOKE, **settings))
    assert scores["judge_kind"] == "custom" and scores["judge_test_clips"] == 20
    for name, value in judge.report["factor_accuracy"].items():
        assert scores[f"judge_test_acc_{name}"] == value
    bare = judge_swaps(judge, batch["video"], batch["factors"], batch["factors"], None, with_judge_info=False)
    assert not any(key.startswith("judge_") for key in bare)


def _hand_set_judge():
    """A judge whose heads are hand-set: digits (3, 7), direction 2, cell 4 in every frame."""
    factors = [
        Factor("digit0", "static", 10),
        Factor("digit1", "static", 10),
        Factor("direction", "dynamic", 8),
        Factor("cell", "dynamic", 9, True),
    ]
    judge = Judge(factors, (3, 1, 16, 16), channels=(4,), depth=1, local=4, feature_dim=8, hidden=4)
    with torch.no_grad():
        for head in [*judge.heads.values(), *judge.count_heads.values()]:
            head.weight.zero_()
            head.bias.zero_()
        for name, cls in {"digit0": 3, "digit1": 7, "direction": 2, "cell": 4}.items():
            judge.heads[name].bias[cls] = 10.0
        counts = judge.count_heads["digit"].bias.view(10, 3)  # (class, count 0..2)
        counts[:, 0] = 10.0
        counts[3] = torch.tensor([0.0, 10.0, 0.0])
        counts[7] = torch.tensor([0.0, 10.0, 0.0])
    return judge.eval()


def test_judge_swaps_scores_labels_from_the_right_source():
    judge = _hand_set_judge()
    swaps = torch.rand(4, 3, 1, 16, 16)
    assert judge.predict(swaps)["digit0"].tolist() == [3] * 4
    content = {"digit0": torch.tensor([7, 3, 3, 1]), "digit1": torch.tensor([3, 7, 3, 1])}
    motion = {"direction": torch.tensor([2, 2, 0, 0]), "cell": torch.full((4, 3), 4)}
    scores = judge_swaps(judge, swaps, content, motion, torch.rand(5, 3, 1, 16, 16))
    assert scores["acc_digit0"] == 0.5 and scores["acc_digit1"] == 0.25
    assert scores["acc_content_set"] == 0.5  # (7,3) and (3,7) match {3,7}; (3,3), (1,1) do not
    assert scores["acc_direction"] == 0.5 and scores["acc_cell"] == 1.0
    assert scores["content_accuracy"] == 0.5 and scores["motion_accuracy"] == 0.75
    assert scores["is_digit0"] == pytest.approx(1.0, abs=1e-3)  # the same confident class everywhere
    assert "content_from_motion_source" not in scores  # B's content labels were not given

    # Full labels for both sources: the same predictions scored against the wrong source.
    both_a = content | {"direction": torch.tensor([0, 0, 0, 0]), "cell": torch.full((4, 3), 4)}
    both_b = motion | {"digit0": torch.tensor([3, 1, 7, 3]), "digit1": torch.tensor([7, 1, 3, 3])}
    scores = judge_swaps(judge, swaps, both_a, both_b, torch.rand(5, 3, 1, 16, 16))
    assert scores["content_accuracy"] == 0.5 and scores["motion_accuracy"] == 0.75  # unchanged
    assert scores["content_from_motion_source"] == 0.5  # B's sets: {3,7} {1,1} {3,7} {3,3}
    assert scores["motion_from_content_source"] == 0.5  # A's direction 0 never, A's cell 4 always


@pytest.mark.slow
def test_default_judge_reads_the_digits_of_real_test_clips():
    """Issue 9: each digit >= 0.97, the pair >= 0.95 on 1,000 real test clips (test-pool digits).
    Trains the default judge (about 9 minutes on 2 quiet CPU cores) unless it is cached."""
    judge = get_or_train_judge("moving_mnist", {}, device="cpu")
    accuracy = judge_accuracy(judge, eval_dataset("moving_mnist", "test"), num_clips=1000)
    assert accuracy["content_each"] >= 0.97 and accuracy["content_set"] >= 0.95, accuracy


class OracleModel(torch.nn.Module):
    """Encodes a clip as one-hot (digit0 class) content and one-hot (direction) motion."""

    capabilities = frozenset({"reconstruct", "swap"})

    def __init__(self, dataset, num_clips, swap_returns="b"):
        super().__init__()
        batch = dataset.batch(range(num_clips))
        self.labels = {
            self._key(v): (int(d), int(m))
            for v, d, m in zip(batch["video"], batch["factors"]["digit0"], batch["factors"]["direction"])
        }
        self.swap_returns = swap_returns

    @staticmethod
    def _key(video):
        return video.numpy().tobytes()

    def encode(self, video):
        labels = torch.tensor([self.labels[self._key(v)] for v in video])  # (B, 2)
        content = torch.nn.functional.one_hot(labels[:, 0], 10).float()
        motion = torch.nn.functional.one_hot(labels[:, 1], 8).float()
        return Latents(content, motion.unsqueeze(1).expand(-1, video.shape[1], -1))  # per-frame motion

    def swap(self, video_a, video_b):
        return video_b.clone() if self.swap_returns == "b" else video_a.clone()

    def reconstruct(self, video):
        return video.clone()


def test_paper000_scores_of_an_oracle(smoke_test_set):
    model = OracleModel(smoke_test_set, 60)
    scores = paper000_scores(model, smoke_test_set, num_clips=60, batch_size=25)
    # the oracle's motion latent is vidis's `direction`; the rows beside the paper use the public
    # code's label (`direction_code`), so the oracle's own label has its own rows
    assert scores["motion_label"] == "direction_code" and scores["motion_label_vidis"] == "direction"
    assert scores["content_from_content"] == 1.0 and scores["motion_from_motion_vidis_label"] == 1.0
    assert scores["content_disentanglement"] > 0.5 and scores["motion_disentanglement_vidis_label"] > 0.5
    assert scores["mean_abs_correlation"] < 0.2
    assert scores["motion_correlation"] == pytest.approx(1.0)  # swap = copy of B
    assert scores["average_frame_similarity"] == pytest.approx(scores["average_frame_similarity_copy_b"])
    assert scores["overall_swap_quality"] == pytest.approx((scores["average_frame_similarity"] + 1) / 2)
    assert 0.8 < scores["average_frame_similarity_black"] < 1.0  # mostly black frames

    copy_a = paper000_scores(
        OracleModel(smoke_test_set, 60, "a"), smoke_test_set, num_clips=60, batch_size=25
    )
    assert copy_a["average_frame_similarity"] == pytest.approx(1.0)


def test_paper000_scores_with_judge_and_without_swap(smoke_test_set):
    model = OracleModel(smoke_test_set, 20)
    scores = paper000_scores(
        model, smoke_test_set, num_clips=20, batch_size=10, judge=tiny_judge(smoke_test_set)
    )
    assert {"judge_acc_content_set", "judge_fd", "judge_real_acc_digit0"} <= set(scores)
    # The oracle's swap is a copy of B, and B runs over the same clips as A (a permutation):
    # B's content is "recognised" exactly as often as the judge recognises real clips' content.
    assert scores["judge_content_from_motion_source"] == pytest.approx(scores["judge_real_content_accuracy"])
    assert scores["judge_motion_accuracy"] == pytest.approx(scores["judge_real_motion_accuracy"])
    # Its reconstruction is the clip itself: the judge scores it exactly as the real clips.
    assert scores["judge_recon_content_accuracy"] == pytest.approx(scores["judge_real_content_accuracy"])
    model.capabilities = frozenset({"reconstruct"})
    scores = paper000_scores(model, smoke_test_set, num_clips=20, batch_size=10)
    assert "motion_correlation" not in scores and "overall_disentanglement" in scores


def test_swap_pieces_by_construction():
    assert swap_partner(6).tolist() == [3, 4, 5, 0, 1, 2]
    video = torch.rand(2, 5, 1, 8, 8)
    assert torch.allclose(average_frame_similarity(video, video), torch.ones(2))
    still = video[:, :1].expand(-1, 5, -1, -1, -1)
    assert torch.all(motion_energy(still) == 0) and motion_energy(video).shape == (2, 4)


def test_missing_or_damaged_quick_judge_names_the_flag_that_rebuilds_it(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDIS_CACHE", str(tmp_path))
    with pytest.raises(VidisError, match="`vidis judge train --data moving_mnist --quick`"):
        load_judge("moving_mnist", SMOKE, quick=True)
    path = judge_path("moving_mnist", SMOKE, quick=True)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a judge")
    with pytest.raises(VidisError, match="`vidis judge train --data moving_mnist --quick --overwrite`"):
        get_or_train_judge("moving_mnist", SMOKE, quick=True)

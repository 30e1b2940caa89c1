"""Judge protocol (vidis.eval.judge) and paper 000's scores (vidis.eval.disentanglement)."""

import pytest
import torch

from vidis.data import make_dataset
from vidis.errors import VidisError
from vidis.eval.disentanglement import (
    average_frame_similarity,
    motion_energy,
    paper000_scores,
    swap_partner,
)
from vidis.eval.judge import (
    Judge,
    content_set_accuracy,
    judge_path,
    judge_swaps,
    load_judge,
    train_judge,
)
from vidis.types import Factor, Latents

SMOKE = {"num_frames": 6, "num_test": 60}


@pytest.fixture(scope="module")
def smoke_test_set():
    return make_dataset("moving_mnist", "test", 0, **SMOKE)


def tiny_judge(dataset):
    torch.manual_seed(0)
    return Judge(dataset.factors, dataset.video_shape, channels=(4, 8, 8, 8), feature_dim=16, hidden=8).eval()


def test_judge_shapes_per_clip_and_per_frame(smoke_test_set):
    judge = tiny_judge(smoke_test_set)
    video = smoke_test_set.batch(range(3))["video"]  # (3, 6, 1, 64, 64)
    logits = judge(video)
    assert set(logits) == {"digit0", "digit1", "direction", "cell"}
    assert logits["digit0"].shape == (3, 10)
    assert logits["direction"].shape == (3, 8)
    assert logits["cell"].shape == (3, 6, 9)  # per-frame head
    assert judge.features(video).shape == (3, judge.feature_dim)
    with pytest.raises(ValueError, match="expects video of shape"):
        judge(video[:, :, :, :32, :32])


def test_judge_from_any_factor_declaration():
    factors = [
        Factor("colour", "static", 3),
        Factor("action", "dynamic", 5),
        Factor("pose", "dynamic", 4, True),
    ]
    judge = Judge(factors, (4, 3, 32, 32), channels=(4, 8), feature_dim=16, hidden=8)
    logits = judge(torch.rand(2, 4, 3, 32, 32))
    assert {k: tuple(v.shape) for k, v in logits.items()} == {
        "colour": (2, 3),
        "action": (2, 5),
        "pose": (2, 4, 4),
    }


def test_train_save_load_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDIS_CACHE", str(tmp_path))
    with pytest.raises(VidisError, match="vidis judge train --data moving_mnist"):
        load_judge("moving_mnist", SMOKE)
    tiny = {"channels": [8, 8, 8, 8], "feature_dim": 16, "hidden": 8}
    judge, report = train_judge(
        "moving_mnist", SMOKE, steps=3, batch_size=2, progress=False, num_test_clips=20, judge_options=tiny
    )
    path = judge_path("moving_mnist", SMOKE)
    assert path.is_file() and path.with_suffix(".json").is_file()
    assert path.parent == tmp_path / "judges"
    assert set(report["factor_accuracy"]) == {"digit0", "digit1", "direction", "cell"}
    assert set(report["chance"]) == set(report["factor_accuracy"])
    assert report["steps"] == 3 and report["data"] == "moving_mnist"
    state = torch.load(path, weights_only=True)  # plain state dict + JSON metadata
    assert state["video_shape"] == [6, 1, 64, 64] and state["options"]["hidden"] == 8
    loaded = load_judge("moving_mnist", SMOKE)
    assert not loaded.training and loaded.report == report
    video = make_dataset("moving_mnist", "test", 0, **SMOKE).batch(range(4))["video"]
    with torch.no_grad():
        before, after = judge(video), loaded(video)
    for name in before:
        torch.testing.assert_close(before[name], after[name])


def test_judge_path_ignores_split_sizes_not_images(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDIS_CACHE", str(tmp_path))
    assert judge_path("moving_mnist", {}) == judge_path("moving_mnist", {"num_digits": 2, "num_test": 10})
    assert judge_path("moving_mnist", {}) != judge_path("moving_mnist", {"num_frames": 10})
    assert judge_path("moving_mnist", {}).name.startswith("moving_mnist-")


def test_content_set_accuracy_treats_digits_as_exchangeable():
    predicted = torch.tensor([[3, 7], [3, 3], [1, 2]])
    target = torch.tensor([[7, 3], [3, 7], [1, 2]])
    assert content_set_accuracy(predicted, target).tolist() == [True, False, True]


def test_judge_swaps_of_real_clips(smoke_test_set):
    judge = tiny_judge(smoke_test_set)
    batch = smoke_test_set.batch(range(40))
    video, factors = batch["video"], batch["factors"]
    scores = judge_swaps(judge, video, factors, factors, video)
    assert scores["judge_fd"] == pytest.approx(0.0, abs=1e-6)  # a set against itself
    for key in ("acc_digit0", "acc_digit1", "acc_direction", "acc_cell", "acc_content_set"):
        assert 0.0 <= scores[key] <= 1.0
    assert scores["content_accuracy"] == scores["acc_content_set"]
    assert scores["motion_accuracy"] == pytest.approx((scores["acc_direction"] + scores["acc_cell"]) / 2)
    assert 1.0 <= scores["is_digit0"] <= 10.0
    assert scores["h_y_given_x_digit0"] >= 0 and scores["h_y_digit0"] >= 0


def test_judge_swaps_scores_labels_from_the_right_source():
    # A judge whose heads are hand-set: predicted digits (3, 7), direction 2, cell 4 in every frame.
    factors = [
        Factor("digit0", "static", 10),
        Factor("digit1", "static", 10),
        Factor("direction", "dynamic", 8),
    ]
    judge = Judge(
        factors + [Factor("cell", "dynamic", 9, True)], (3, 1, 16, 16), channels=(4,), feature_dim=8, hidden=4
    )
    with torch.no_grad():
        for name, cls in {"digit0": 3, "digit1": 7, "direction": 2, "cell": 4}.items():
            head = judge.heads[name]
            head.weight.zero_()
            head.bias.zero_()
            head.bias[cls] = 10.0
    swaps = torch.rand(4, 3, 1, 16, 16)
    content = {"digit0": torch.tensor([7, 3, 3, 1]), "digit1": torch.tensor([3, 7, 3, 1])}
    motion = {"direction": torch.tensor([2, 2, 0, 0]), "cell": torch.full((4, 3), 4)}
    scores = judge_swaps(judge.eval(), swaps, content, motion, torch.rand(5, 3, 1, 16, 16))
    assert scores["acc_digit0"] == 0.5 and scores["acc_digit1"] == 0.25
    assert scores["acc_content_set"] == 0.5  # (7,3) and (3,7) match {3,7}; (3,3), (1,1) do not
    assert scores["acc_direction"] == 0.5 and scores["acc_cell"] == 1.0
    assert scores["content_accuracy"] == 0.5 and scores["motion_accuracy"] == 0.75
    assert scores["is_digit0"] == pytest.approx(1.0, abs=1e-3)  # the same confident class everywhere
    assert "content_from_motion_source" not in scores  # B's content labels were not given

    # Full labels for both sources: the same predictions scored against the wrong source.
    both_a = content | {"direction": torch.tensor([0, 0, 0, 0]), "cell": torch.full((4, 3), 4)}
    both_b = motion | {"digit0": torch.tensor([3, 1, 7, 3]), "digit1": torch.tensor([7, 1, 3, 3])}
    scores = judge_swaps(judge.eval(), swaps, both_a, both_b, torch.rand(5, 3, 1, 16, 16))
    assert scores["content_accuracy"] == 0.5 and scores["motion_accuracy"] == 0.75  # unchanged
    assert scores["content_from_motion_source"] == 0.5  # B's sets: {3,7} {1,1} {3,7} {3,3}
    assert scores["motion_from_content_source"] == 0.5  # A's direction 0 never, A's cell 4 always


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
    assert scores["content_from_content"] == 1.0 and scores["motion_from_motion"] == 1.0
    assert scores["content_disentanglement"] > 0.5 and scores["motion_disentanglement"] > 0.5
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

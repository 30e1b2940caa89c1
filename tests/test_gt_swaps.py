"""Ground-truth swaps (vidis.eval.gt_swaps): scores checked on "models" whose answer is known."""

import pytest
import torch

from vidis.data import VideoDataset, make_dataset
from vidis.errors import CapabilityError, DataError
from vidis.eval.disentanglement import swap_partner
from vidis.eval.gt_swaps import (
    _mean_and_se,
    ground_truth_swap_scores,
    render_true_swaps,
    score_against_truth,
    true_swaps,
)

NUM_CLIPS = 10


@pytest.fixture(scope="module")
def dataset():
    return make_dataset("moving_mnist", "test", num_frames=4, num_test=NUM_CLIPS)


class KnownSwapModel:
    """Recognises the dataset's clips by their pixels and answers a swap as told:
    "truth" (render_swap with `assignment`), "b" (a copy of B) or "a" (a copy of A)."""

    capabilities = frozenset({"reconstruct", "swap"})

    def __init__(self, dataset, answer="truth", assignment=None):
        self.dataset, self.answer, self.assignment = dataset, answer, assignment
        self.index = {dataset[i]["video"].numpy().tobytes(): i for i in range(len(dataset))}
        self.pairs = []

    def swap(self, video_a, video_b):
        if self.answer == "b":
            return video_b.clone()
        if self.answer == "a":
            return video_a.clone()
        pairs = [
            (self.index[a.numpy().tobytes()], self.index[b.numpy().tobytes()])
            for a, b in zip(video_a, video_b)
        ]
        self.pairs += pairs
        return torch.stack([self.dataset.render_swap(a, b, self.assignment) for a, b in pairs])

    def reconstruct(self, video):
        return video.clone()


def test_true_swap_scores_perfectly_and_pairs_follow_swap_partner(dataset):
    model = KnownSwapModel(dataset)
    scores = ground_truth_swap_scores(model, dataset, num_clips=NUM_CLIPS, batch_size=4)
    assert scores["num_clips"] == NUM_CLIPS and scores["num_orderings"] == 2
    assert scores["swap_mse"] == 0 and scores["swap_mse_se"] == 0
    assert scores["swap_ssim"] == pytest.approx(1.0, abs=1e-12)
    assert scores["recon_mse"] == 0 and scores["recon_ssim"] == pytest.approx(1.0, abs=1e-12)
    assert scores["swap_identity_ordering"] == 1.0
    partner = swap_partner(NUM_CLIPS)
    assert model.pairs == [(i, int(partner[i])) for i in range(NUM_CLIPS)]
    # copies of B (other digits) and of A (other paths) are not the true swap
    for reference in ("copy_b", "copy_a"):
        assert scores[f"{reference}_mse"] > 0 and scores[f"{reference}_ssim"] < 1


def test_digits_in_the_other_order_score_perfectly_at_the_best_ordering(dataset):
    model = KnownSwapModel(dataset, assignment=(1, 0))  # A's digit 1 on B's trajectory 0
    scores = ground_truth_swap_scores(model, dataset, num_clips=NUM_CLIPS, batch_size=3)
    assert scores["swap_mse"] == 0 and scores["swap_ssim"] == pytest.approx(1.0, abs=1e-12)
    assert scores["swap_identity_ordering"] == 0.0


def test_copies_score_exactly_as_their_references(dataset):
    for answer, reference in (("b", "copy_b"), ("a", "copy_a")):
        scores = ground_truth_swap_scores(KnownSwapModel(dataset, answer), dataset, NUM_CLIPS, 6)
        for metric in ("mse", "mse_se", "ssim", "ssim_se"):
            assert scores[f"swap_{metric}"] == scores[f"{reference}_{metric}"], (answer, metric)


def test_ordering_search_picks_the_ordering_that_was_drawn(dataset):
    index_a, index_b = list(range(8)), [9, 8, 7, 6, 5, 4, 3, 2]
    truths = render_true_swaps(dataset, index_a, index_b)  # (8, 2, T, 1, 64, 64)
    assert truths.shape == (8, 2, 4, 1, 64, 64)
    drawn = torch.tensor([0, 1, 1, 0, 1, 0, 0, 1])
    prediction = truths[torch.arange(8), drawn]
    scores = score_against_truth(prediction, truths)
    assert torch.equal(scores["ordering"], drawn)
    assert torch.all(scores["mse"] == 0)
    # a blurred prediction keeps the ordering it came from
    blurred = torch.nn.functional.avg_pool3d(prediction.squeeze(2), (1, 3, 3), 1, (0, 1, 1)).unsqueeze(2)
    assert torch.equal(score_against_truth(blurred, truths)["ordering"], drawn)
    # true_swaps for figures: identity without a prediction, the picked ordering with one
    assert torch.equal(true_swaps(dataset, index_a, index_b), truths[:, 0])
    assert torch.equal(true_swaps(dataset, index_a, index_b, prediction), prediction)


def test_mean_and_standard_error():
    mean, se = _mean_and_se(torch.tensor([0.0, 1.0, 2.0, 3.0], dtype=torch.float64))
    assert mean == 1.5 and se == pytest.approx((5 / 3) ** 0.5 / 2)  # sample std / sqrt(4)


def test_a_real_model_gets_every_key(dataset):
    from vidis.train.spec import build_model, make_spec

    torch.manual_seed(0)
    model = build_model(make_spec("frame_vae", preset="smoke"), dataset.video_shape)
    scores = ground_truth_swap_scores(model, dataset, num_clips=6, batch_size=4)
    for source in ("swap", "copy_b", "copy_a", "recon"):
        for metric in ("mse", "mse_se", "ssim", "ssim_se"):
            value = scores[f"{source}_{metric}"]
            assert value == value and value >= 0, (source, metric)  # finite, not NaN
        assert scores[f"{source}_ssim"] <= 1


def test_clear_errors(dataset):
    class Plain(VideoDataset):
        name = "plain"

    with pytest.raises(CapabilityError, match="ground-truth swaps"):
        ground_truth_swap_scores(KnownSwapModel(dataset), Plain(None, "test"), 4, 2)
    with pytest.raises(DataError, match="at least 2 clips"):
        ground_truth_swap_scores(KnownSwapModel(dataset), dataset, 1, 2)

    class NoSwap:
        capabilities = frozenset({"reconstruct"})

    with pytest.raises(CapabilityError, match="cannot swap"):
        ground_truth_swap_scores(NoSwap(), dataset, 4, 2)

"""Protocol figures (vidis.eval.figures): the true swap beside the model's swap."""

import numpy as np
import pytest
import torch
from PIL import Image

from vidis.data import make_dataset
from vidis.errors import CapabilityError
from vidis.eval.figures import STILL_FRAMES, reconstruction_grid, swap_vs_truth_figure

PAD, SIZE, SCALE = 2, 64, 2


class TrueSwapModel:
    """Answers a swap with the dataset's true swap in the digit order `assignment`."""

    capabilities = frozenset({"swap"})

    def __init__(self, dataset, assignment=None):
        self.dataset, self.assignment = dataset, assignment
        self.index = {dataset[i]["video"].numpy().tobytes(): i for i in range(len(dataset))}

    def require(self, capability):
        if capability not in self.capabilities:
            raise CapabilityError(f"cannot {capability}")

    def swap(self, video_a, video_b):
        pairs = [
            (self.index[a.numpy().tobytes()], self.index[b.numpy().tobytes()])
            for a, b in zip(video_a, video_b)
        ]
        return torch.stack([self.dataset.render_swap(a, b, self.assignment) for a, b in pairs])


def _still_row(image: np.ndarray, row: int) -> np.ndarray:
    """Row `row` of the first pair's film strip in the PNG, frames only (label margin cut off)."""
    width = STILL_FRAMES * SIZE + (STILL_FRAMES + 1) * PAD
    top = (PAD + row * (SIZE + PAD)) * SCALE
    return image[top : top + SIZE * SCALE, -width * SCALE :]


@pytest.mark.parametrize("assignment", [None, (1, 0)])
def test_swap_vs_truth_figure_shows_the_true_swap_beside_the_model_swap(tmp_path, assignment):
    dataset = make_dataset("moving_mnist", "test", num_frames=6, num_test=8)
    model = TrueSwapModel(dataset, assignment)
    pairs = [(0, 4), (1, 5)]
    gif, png = swap_vs_truth_figure(model, dataset, pairs, tmp_path / "truth")
    assert gif.name == "truth.gif" and png.name == "truth.png"
    with Image.open(gif) as animation:
        assert animation.n_frames == 6
    image = np.asarray(Image.open(png).convert("RGB"))
    # a model that answers with the true swap (in either digit order) matches the truth row
    true_row, model_row = _still_row(image, 2), _still_row(image, 3)
    assert np.array_equal(true_row, model_row)
    assert true_row.max() > 0  # digits are drawn
    assert not np.array_equal(_still_row(image, 1), model_row)  # B differs from the swap
    # two pairs of four rows, a band between them, and frames scaled 2x
    assert image.shape[0] == (8 * (SIZE + PAD) + PAD + 3 * PAD) * SCALE


def test_swap_vs_truth_figure_needs_a_model_that_swaps(tmp_path):
    dataset = make_dataset("moving_mnist", "test", num_frames=4, num_test=4)
    model = TrueSwapModel(dataset)
    model.capabilities = frozenset()
    with pytest.raises(CapabilityError, match="swap"):
        swap_vs_truth_figure(model, dataset, [(0, 1)], tmp_path / "x")


class Reconstructs:
    def __init__(self, fn):
        self.fn = fn

    def reconstruct(self, video):
        return self.fn(video)


def test_reconstruction_grid_labels_its_rows(tmp_path):
    video = make_dataset("moving_mnist", "test", num_frames=6, num_test=3).batch(range(3))["video"]
    models = {"copy": Reconstructs(lambda v: v), "black": Reconstructs(torch.zeros_like)}
    gif, png = reconstruction_grid(models, video, tmp_path / "recon")
    with Image.open(gif) as animation:
        assert animation.n_frames == 6
    image = np.asarray(Image.open(png).convert("RGB"))  # 3 rows (real, copy, black) x 5 frames
    strip = STILL_FRAMES * (3 * SIZE + 4 * PAD) + (STILL_FRAMES - 1) * PAD  # frames and separators
    assert image.shape[0] == 3 * SIZE + 4 * PAD and image.shape[1] > strip
    margin, frames = image[:, : image.shape[1] - strip], image[:, image.shape[1] - strip :]
    for row in range(3):  # each row's label is drawn (dark text on the grey margin)
        band = margin[PAD + row * (SIZE + PAD) : (row + 1) * (SIZE + PAD)]
        assert (band < 64).any()
    real, copy, black = (frames[PAD + r * (SIZE + PAD) : (r + 1) * (SIZE + PAD)] for r in range(3))
    assert np.array_equal(real, copy) and real.max() > 0 and black[:SIZE, PAD : PAD + SIZE].max() == 0

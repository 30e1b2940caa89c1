"""predict / predict_chunks and the streaming best-of-N prediction protocol."""

import pytest
import torch
from tiny_models import TinyConfig, TinyTwoOptimizer, registered

from vidis.eval.prediction import BestOfN, evaluate_prediction, prediction_test_set, score_samples
from vidis.metrics import mse, ssim
from vidis.train.spec import make_spec
from vidis.train.trainer import Trainer


@pytest.fixture
def predictor():
    model = TinyTwoOptimizer(TinyConfig(predict_noise=0.3), (4, 1, 32, 32)).eval()
    model.name = "tiny_two"
    return model


@pytest.fixture
def clips():
    return torch.rand(3, 6, 1, 32, 32, generator=torch.Generator().manual_seed(0))


def test_predict_is_reproducible_with_a_seeded_generator(predictor, clips):
    context = clips[:, :2]
    first = predictor.predict(context, 5, 4, generator=torch.Generator().manual_seed(3))
    again = predictor.predict(context, 5, 4, generator=torch.Generator().manual_seed(3))
    other = predictor.predict(context, 5, 4, generator=torch.Generator().manual_seed(4))
    assert first.shape == (4, 3, 5, 1, 32, 32)
    assert torch.equal(first, again) and not torch.equal(first, other)
    chunks = list(predictor.predict_chunks(context, 5, 7, chunk_size=3, generator=torch.Generator()))
    assert [c.shape[0] for c in chunks] == [3, 3, 1]


def test_streamed_best_of_n_equals_best_of_n_on_all_samples(predictor, clips):
    context, future = clips[:, :2], clips[:, 2:]
    generator = torch.Generator().manual_seed(1)
    chunks = list(predictor.predict_chunks(context, 4, 10, chunk_size=3, generator=generator))
    streamed = score_samples(iter(chunks), future)

    samples = torch.cat(chunks)  # (10, B, T, C, H, W): all at once, for the reference
    n = samples.shape[0]
    all_ssim = ssim(samples.flatten(0, 1), future.repeat(n, 1, 1, 1, 1)).view(n, 3, 4)  # (N, B, T)
    all_mse = mse(samples.flatten(0, 1), future.repeat(n, 1, 1, 1, 1)).view(n, 3, 4)
    best_ssim = all_ssim.mean(2).argmax(0)  # (B,)
    best_mse = all_mse.mean(2).argmin(0)
    clip = torch.arange(3)
    assert torch.equal(streamed["best_ssim_index"], best_ssim)
    assert torch.equal(streamed["best_mse_index"], best_mse)
    assert torch.allclose(streamed["best_ssim"], all_ssim[best_ssim, clip])
    assert torch.allclose(streamed["best_mse"], all_mse[best_mse, clip])
    assert torch.allclose(streamed["mean_ssim"], all_ssim.mean(0))
    assert torch.allclose(streamed["mean_mse_clip"], all_mse.mean((0, 2)))
    assert (streamed["best_ssim_clip"] >= streamed["mean_ssim_clip"]).all()


def test_scoring_in_slices_gives_the_same_values(predictor, clips, monkeypatch):
    """BestOfN scores a chunk in slices of SCORE_ELEMENTS values (bounded memory): same numbers."""
    from vidis.eval import prediction

    context, future = clips[:, :2], clips[:, 2:]
    chunks = list(predictor.predict_chunks(context, 4, 6, chunk_size=3, generator=torch.Generator()))
    whole = score_samples(iter(chunks), future)
    monkeypatch.setattr(prediction, "SCORE_ELEMENTS", future[0].numel() * 2 + 1)  # 2 clips a slice
    sliced = score_samples(iter(chunks), future)
    assert whole.keys() == sliced.keys()
    for name in whole:
        assert torch.equal(whole[name], sliced[name]), name


def test_a_sample_equal_to_the_future_is_the_best(clips):
    future = clips[:, 2:]
    noise = torch.rand(4, *future.shape, generator=torch.Generator().manual_seed(2))
    noise[2, 1] = future[1]  # sample 2 of clip 1 is exact
    scores = BestOfN(future)
    scores.update(noise[:3])
    scores.update(noise[3:])
    out = scores.compute()
    assert out["best_mse_index"][1] == 2 and out["best_mse_clip"][1] == 0
    assert out["best_ssim_index"][1] == 2 and out["best_ssim_clip"][1] == pytest.approx(1.0)


def test_evaluate_prediction_beyond_the_training_clip_length(tmp_path):
    with registered(tiny_two=TinyTwoOptimizer):
        spec = make_spec("tiny_two", preset="smoke", overrides={"train": {"steps": 2}})
        Trainer(spec, tmp_path, progress=False)  # writes the run folder's config.json
        assert spec.data_config.num_frames == 4
        test = prediction_test_set(tmp_path, num_frames=9)  # context 2 + horizon 7 > 4 trained frames
        model = TinyTwoOptimizer(spec.model_config, (4, 1, 32, 32))
        model.name = "tiny_two"
        args = dict(context_frames=2, num_samples=5, num_clips=4, batch_size=2, chunk_size=2, seed=1)
        out = evaluate_prediction(model, test, **args)
        assert out["horizon"] == 7 and out["num_clips"] == 4 and len(out["per_frame"]["best_ssim"]) == 7
        assert out["best_mse"] <= out["mean_mse"] and out["best_ssim"] >= out["mean_ssim"]
        assert evaluate_prediction(model, test, **args) == out  # seeded: the same numbers


class _Clips:
    """A stand-in dataset: fixed clips, with `batch` and `video_shape` as vidis datasets."""

    def __init__(self, video):
        self.video, self.video_shape = video, tuple(video.shape[1:])

    def __len__(self):
        return len(self.video)

    def batch(self, indices):
        return {"video": self.video[list(indices)]}


def test_trivial_predictions_score_what_they_copy():
    from vidis.eval.prediction import METRICS, trivial_predictions

    torch.manual_seed(0)
    frame = torch.rand(3, 1, 1, 16, 16)
    still = _Clips(frame.expand(3, 6, 1, 16, 16).clone())  # nothing moves: the last frame is the future
    refs = trivial_predictions(still, context_frames=2, num_clips=3, batch_size=2)
    assert set(refs) == {"black", "last_frame"} and refs["last_frame"]["num_clips"] == 3
    assert len(refs["last_frame"]["per_frame"]["mse"]) == 4
    assert refs["last_frame"]["mse"] == 0 and refs["last_frame"]["ssim"] == pytest.approx(1)
    dark = _Clips(torch.zeros(2, 5, 1, 16, 16))  # black clips: the black guess is exact
    assert trivial_predictions(dark, 1, 2)["black"]["mse"] == 0
    # the black guess on the still clips scores the frames' mean square, as `METRICS` computes it
    expected = METRICS["mse"][0](torch.zeros_like(frame), frame).mean()
    assert refs["black"]["mse"] == pytest.approx(float(expected))
    with pytest.raises(Exception, match="context_frames"):
        trivial_predictions(still, context_frames=6, num_clips=3)

"""vidis.viz: grids, strips, GIF/PNG files, plots and the HTML report."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from vidis.viz import (
    Section,
    metrics_table,
    plot_bar_table,
    plot_training_curves,
    save_gif,
    save_png,
    to_uint8,
    video_grid,
    video_strip,
    write_report,
)


def moving_square(n: int = 1, t: int = 5, c: int = 1, size: int = 16) -> torch.Tensor:
    """(n, t, c, size, size): a 4x4 white square moving right one pixel per frame."""
    video = torch.zeros(n, t, c, size, size)
    for i in range(t):
        video[:, i, :, 4:8, i : i + 4] = 1.0
    return video


def test_to_uint8_clamps_and_rounds():
    x = torch.tensor([-0.5, 0.0, 0.5, 1.0, 2.0])
    assert to_uint8(x).tolist() == [0, 0, 128, 255, 255]
    assert to_uint8(np.array([0.25])).dtype == np.uint8


def test_grid_shape_arithmetic():
    rows = torch.rand(2, 3, 4, 3, 8, 10)  # (R, N, T, C, H, W)
    grid = video_grid(rows, pad=2)
    assert grid.dtype == np.uint8
    assert grid.shape == (4, 2 * 8 + 3 * 2, 3 * 10 + 4 * 2, 3)
    assert video_grid(rows, pad=0).shape == (4, 16, 30, 3)


def test_grid_places_clips_and_pads():
    rows = torch.zeros(1, 2, 1, 3, 4, 4)
    rows[0, 1] = 1.0  # second clip white
    grid = video_grid(rows, pad=1, pad_value=0.5)[0]  # (H_total, W_total, 3)
    assert grid[0, 0].tolist() == [128, 128, 128]  # border
    assert grid[1, 1].tolist() == [0, 0, 0]  # first clip
    assert grid[1, 6].tolist() == [255, 255, 255]  # second clip starts at 1 + 4 + 1


def test_grid_grayscale_becomes_rgb():
    gray = moving_square(n=2, t=3, c=1)
    grid = video_grid([gray])
    assert grid.shape[-1] == 3
    assert (grid[..., 0] == grid[..., 1]).all() and (grid[..., 1] == grid[..., 2]).all()


def test_grid_mismatched_t_holds_last_frame():
    long, short = moving_square(n=1, t=5), moving_square(n=1, t=2)
    grid = video_grid([long, short], pad=0)
    assert grid.shape[0] == 5
    bottom = grid[:, 16:, :, 0]  # the short row
    for t in range(2, 5):
        assert (bottom[t] == bottom[1]).all()
    assert not (grid[4, :16] == grid[1, :16]).all()  # the long row keeps moving


def test_grid_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"\(N, T, C, H, W\)"):
        video_grid(torch.rand(4, 1, 8, 8))
    with pytest.raises(ValueError, match=r"\(N, T, C, H, W\)"):
        video_grid([torch.rand(3, 1, 8, 8)])
    with pytest.raises(ValueError, match="channels"):
        video_grid([torch.rand(1, 3, 2, 8, 8)])
    with pytest.raises(ValueError, match="same H and W"):
        video_grid([torch.rand(1, 3, 1, 8, 8), torch.rand(1, 3, 1, 9, 8)])


def test_gif_roundtrip(tmp_path):
    frames = video_grid(torch.stack([moving_square(n=3, t=6), moving_square(n=3, t=6)]))
    _, h, w, _ = frames.shape
    path = save_gif(frames, tmp_path / "sub" / "a.gif", fps=8)
    back = iio.imread(path, index=None)
    assert back.shape[0] == 6 and back.shape[1:3] == (h, w)
    path2 = save_gif(frames, tmp_path / "b.gif", scale=2)
    back2 = iio.imread(path2, index=None)
    assert back2.shape[0] == 6 and back2.shape[1:3] == (2 * h, 2 * w)
    assert not list(tmp_path.rglob("*.tmp"))  # no temporary files left behind


def test_png_strip_size(tmp_path):
    frames = np.zeros((4, 10, 12, 3), dtype=np.uint8)
    back = iio.imread(save_png(frames, tmp_path / "s.png"))
    assert back.shape[:2] == (10, 4 * 12 + 3 * 2)
    back2 = iio.imread(save_png(frames, tmp_path / "s2.png", scale=2))
    assert back2.shape[:2] == (20, 2 * (4 * 12 + 3 * 2))
    still = iio.imread(save_png(np.ones((5, 7)), tmp_path / "g.png"))
    assert still.shape == (5, 7, 3) and still.max() == 255


def test_video_strip(tmp_path):
    clips = moving_square(n=1, t=5)[0]  # (T, C, H, W)
    strip = video_strip(torch.stack([clips, 1 - clips]), pad=2)
    assert strip.shape == (2 * 16 + 3 * 2, 5 * 16 + 6 * 2, 3)
    ragged = video_strip([clips, clips[:2]], pad=2)  # short row ends in blank cells
    assert ragged.shape == strip.shape
    labelled = video_strip([clips, clips], labels=["original", "recon"], pad=2)
    assert labelled.shape[0] == strip.shape[0] and labelled.shape[1] > strip.shape[1]
    with pytest.raises(ValueError, match="labels"):
        video_strip([clips], labels=["a", "b"])


def test_report_html(tmp_path):
    save_png(np.zeros((8, 8, 3), dtype=np.uint8), tmp_path / "img" / "x.png")
    table = [{"model": "frame_vae", "psnr": 14.81234, "params": 1234567}, {"model": "dsvae"}]
    sections = [
        Section("Results", text="<script>alert(1)</script>", table=table, images=["img/x.png"]),
        Section("Raw", html="<b>bold</b>"),
    ]
    page = write_report(tmp_path / "report.html", "Demo & test", sections).read_text()
    assert "14.81" in page and "1,234,567" in page and "frame_vae" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "src='img/x.png'" in page and "width='32'" in page  # 8 px enlarged 4x
    assert "<b>bold</b>" in page and "Demo &amp; test" in page


def test_metrics_table():
    rows = metrics_table({"test": {"mse": 0.5, "by_t": {"0": 1.0}}, "epochs": 3})
    assert rows == [
        {"metric": "test.mse", "value": 0.5},
        {"metric": "test.by_t.0", "value": 1.0},
        {"metric": "epochs", "value": 3},
    ]


def test_plots_write_png(tmp_path):
    log = tmp_path / "log.csv"
    lines = ["step,split,metric,value"]
    for step in range(0, 200, 10):
        lines.append(f"{step},train,loss,{1000 / (step + 1)}")
        lines.append(f"{step},train,beta,{min(1.0, step / 100)}")
        if step % 50 == 0:
            lines.append(f"{step},val,loss,{1200 / (step + 1)}")
    log.write_text("\n".join(lines) + "\n")
    out = plot_training_curves(log, tmp_path / "curves.png")
    assert out is not None and iio.imread(out).ndim == 3

    empty = tmp_path / "empty.csv"
    empty.write_text("step,split,metric,value\n")
    assert plot_training_curves(empty, tmp_path / "none.png") is None
    assert not (tmp_path / "none.png").exists()

    rows = {"frame_vae": {"psnr": 14.8, "ssim": 0.45}, "dsvae": {"psnr": 17.2}}
    bars = plot_bar_table(rows, tmp_path / "bars.png", "ours", reference={"psnr": 18.0})
    assert iio.imread(bars).ndim == 3


def test_judge_summary_puts_each_score_beside_its_ceilings():
    from vidis.eval.run_report import judge_summary

    text = judge_summary({"content_accuracy": 0.01, "real_content_accuracy": 0.64, "motion_accuracy": 0.5})
    assert "content of A (the row) recognised 0.010 (on real clips 0.640" in text
    assert "motion of B (the column) 0.500" in text
    assert "reconstructions –" in text  # scores the run does not have are marked, not invented


def test_judge_summary_states_the_number_of_swaps_and_the_judge():
    from vidis.eval.run_report import judge_summary

    text = judge_summary({"num_swaps": 300, "content_accuracy": 0.5, "file": "/c/j.pt", "accuracy": 0.9})
    assert text.startswith("Judge on swaps (300 swaps)")
    assert "Judge used: /c/j.pt; its own accuracy on real test clips: 0.900." in text
    assert "1,000" not in judge_summary({"content_accuracy": 0.5})  # never a count the run did not use

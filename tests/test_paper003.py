"""`vidis reproduce 003`: trains, measures and tabulates both models at `smoke` (a tiny judge)."""

import json

import pytest
import torch

from vidis.eval import judge as judge_module
from vidis.eval.judge_nets import Judge
from vidis.papers import PAPERS, paper003
from vidis.viz.tables import to_markdown

TINY = {"channels": [4, 8, 8, 8], "depth": 1, "local": 8, "feature_dim": 16, "hidden": 8}


def tiny_judge(data_name, data_options=None, **_):
    from vidis.data import make_dataset

    dataset = make_dataset(data_name, "test", 0, **(data_options or {}))
    torch.manual_seed(0)
    return Judge(dataset.factors, dataset.video_shape, **TINY).eval()


@pytest.mark.slow  # about 40 s alone: two trainings, 25-frame predictions, swaps, report
def test_reproduce_smoke_writes_table_figures_and_report_and_reuses_its_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(judge_module, "get_or_train_judge", tiny_judge)
    assert PAPERS["003"] == "vidis.papers.paper003"
    results = paper003.reproduce("smoke", tmp_path, num_clips=4, device="cpu", progress=False)
    for m in paper003.MODELS:
        p = results[m]["prediction"]
        assert p["horizon"] == paper003.HORIZON and p["num_clips"] == 4 and p["num_samples"] == 3
        assert len(p["per_frame"]["mean_ssim_skimage"]) == paper003.HORIZON
        assert 0 <= results[m]["stability"]["kept_1"] <= 1 and "gt_swaps" in results[m]
        assert results[m]["train_horizon"] == 2  # smoke: 2 observed + 2 predicted frames
    text = (tmp_path / "table.md").read_text()
    assert "not in the text" in text and "| not yet measured" not in text
    for name in ("fig3.png", "fig3.csv", "fig4.gif", "fig4.png", "swap_drsvg.gif", "swap_svg_lp.gif"):
        assert (tmp_path / "figures" / name).stat().st_size > 0, name
    assert (tmp_path / "report.html").exists()
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["drsvg"]["prediction"] == results["drsvg"]["prediction"]
    capsys.readouterr()
    paper003.reproduce("smoke", tmp_path, num_clips=4, device="cpu", progress=False)
    out = capsys.readouterr().out
    assert "reusing" in out and "already measured" in out


def test_table_marks_models_not_yet_measured():
    prediction = {"horizon": 25, "num_clips": 3, "num_samples": 2, "context_frames": 5,
                  "per_frame": {k: [0.5] * 25 for k, _ in paper003.ROWS},
                  "per_frame_ci95": {k: [0.01] * 25 for k, _ in paper003.ROWS}}
    text = to_markdown(paper003.table({"drsvg": {"prediction": prediction, "train_horizon": 10}}, "small"))
    assert "| not yet measured" in text and "0.500 ± 0.010" in text

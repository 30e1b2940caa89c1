"""`vidis reproduce 002`: the grid, resumable run folders, tables that mark unmeasured cells."""

import json

import pytest

from vidis.errors import ConfigError
from vidis.papers import PAPERS, paper002
from vidis.papers.paper002 import (
    NOT_RUN,
    Experiment,
    all_experiments,
    parse_tables,
    table1,
    table2,
    table3,
    table_experiments,
)
from vidis.viz.tables import parse_markdown_table, to_markdown

SETTINGS = paper002.EVAL_SETTINGS["smoke"]


def test_the_grid_is_33_trainings():
    assert len(table_experiments(1)) == 18
    assert len(set(table_experiments(2)) - set(table_experiments(1))) == 9
    assert len(set(table_experiments(3)) - set(table_experiments(1))) == 6
    assert len(all_experiments()) == 33
    ours = Experiment("factored_vae", "mnist", 2, 1.0)
    assert ours.name == "factored_vae-2+2-beta1" and ours.model_overrides()["static_dim"] == 2
    assert Experiment("slow_vae", "chairs", 8, 4.0).preset("small") == "small-chairs"
    assert parse_tables("1, 3") == (1, 3) and parse_tables([2]) == (2,)
    for bad in ("4", "x", ""):
        with pytest.raises(ConfigError, match="--tables"):
            parse_tables(bad)


def test_empty_tables_show_the_paper_and_mark_every_cell():
    text = to_markdown(table1({}, "small", SETTINGS))
    rows = parse_markdown_table(text)
    assert rows[0] == [
        "model",
        "KL weight",
        "D-score MNIST: paper",
        "vidis",
        "D-score chairs: paper",
        "vidis",
    ]
    assert rows[1][:3] == ["Ours", "1", "6.71"] and rows[1][3] == NOT_RUN and rows[1][4] == "1.79"
    assert len(rows) == 10 and all(row[3] == NOT_RUN and row[5] == NOT_RUN for row in rows[1:])
    assert "0 of 33 trainings" in text
    assert parse_markdown_table(to_markdown(table2({}, "small", SETTINGS)))[1][2] == "0.83"
    assert parse_markdown_table(to_markdown(table3({}, "small", SETTINGS)))[-1][2] == "0.54"


def test_a_measured_cell_and_a_time_limited_one():
    exp = Experiment("vae002", "mnist", 4, 2.0)
    results = {exp.key: {"d_score": 1.234, "steps_trained": 10, "steps_planned": 10}}
    row = [
        r
        for r in parse_markdown_table(to_markdown(table1(results, "small", SETTINGS)))
        if r[:2] == ["VAE", "2"]
    ]
    assert row[0][3] == "1.23"
    results[exp.key]["steps_planned"] = 30
    row = [
        r
        for r in parse_markdown_table(to_markdown(table1(results, "small", SETTINGS)))
        if r[:2] == ["VAE", "2"]
    ]
    assert row[0][3] == "1.23 (10 steps)"


@pytest.mark.slow  # two smoke trainings, their scores and the figures: ~50 s on the loaded 2-core machine
def test_reproduce_trains_scores_and_reuses(tmp_path, monkeypatch, capsys):
    assert PAPERS["002"] == "vidis.papers.paper002"
    grid = [Experiment("factored_vae", "mnist", 2, 1.0), Experiment("slow_vae", "chairs", 8, 1.0)]
    monkeypatch.setattr(paper002, "table_experiments", lambda table: grid)
    results = paper002.reproduce("smoke", tmp_path, num_clips=4, device="cpu", progress=False, tables="1")
    assert set(results) == {e.key for e in grid}
    ours, slow = results[grid[0].key], results[grid[1].key]
    assert ours["static_dims"] == [0, 1] and ours["splits_evaluated"] == 1  # its own split
    assert slow["splits_total"] == 127 and slow["splits_evaluated"] == 8  # smoke: 8 sampled divisions
    assert "gt_swap_mse" in ours and "gt_swap_mse" not in slow
    for name in ("table1.md", "table2.md", "table3.md", "details.md", "results.json", "report.html"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "figures" / "mnist_prior_swap.png").is_file()
    assert (tmp_path / "figures" / "mnist_trajectories.png").is_file()
    cached = json.loads((grid[0].folder(tmp_path) / "paper002.json").read_text())
    assert cached["scores"]["d_score"] == ours["d_score"]
    capsys.readouterr()
    again = paper002.reproduce("smoke", tmp_path, num_clips=4, device="cpu", progress=False, tables="1")
    assert again == results  # nothing retrained, every score read back
    assert capsys.readouterr().out.count("reusing") == 2
    with pytest.raises(paper002.RunMismatch, match="model.sigma_s2"):
        paper002.reproduce(
            "smoke",
            tmp_path,
            num_clips=4,
            device="cpu",
            progress=False,
            overrides={"model": {"sigma_s2": 0.5}},
        )

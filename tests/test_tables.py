"""Every written table keeps one cell per column: Markdown and HTML, paper 000's tables and the
run report, with cell text that holds `|`, `<` and `&`."""

import json
from html.parser import HTMLParser

import pytest
import torch

from vidis.eval.run_report import write_run_report
from vidis.papers import paper000
from vidis.train.spec import make_spec
from vidis.viz.report import Section, write_report
from vidis.viz.tables import Table, escape_markdown_cell, parse_markdown_table, to_html, to_markdown


class TableParser(HTMLParser):
    """Rows of every <table> in a page: [[(cell text, colspan), ...], ...] per table."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ["", int(dict(attrs).get("colspan", 1))]

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(tuple(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data


def html_tables(page: str) -> list[list[list[tuple[str, int]]]]:
    parser = TableParser()
    parser.feed(page)
    return parser.tables


def assert_html_rows_complete(table):
    width = sum(span for _, span in table[0])
    for row in table:
        assert sum(span for _, span in row) == width, row


def assert_markdown_rows_complete(text: str) -> list[list[str]]:
    rows = parse_markdown_table(text)
    assert rows, text
    for row in rows:
        assert len(row) == len(rows[0]), row
    return rows


def test_markdown_and_html_escape_cells():
    table = Table(
        "t",
        ["metric", "a|b", "c"],
        [["acc. content|zc - acc. content|zm", "1 | 2", "<b>&"], ["section <i>"], ["x\\", "y\nz", ""]],
    )
    rows = assert_markdown_rows_complete(to_markdown(table))
    assert rows[0] == ["metric", "a|b", "c"]
    assert rows[1] == ["acc. content|zc - acc. content|zm", "1 | 2", "<b>&"]
    assert rows[3] == ["x\\", "y z", ""]
    assert escape_markdown_cell("a|b") == "a\\|b"
    tables = html_tables(to_html(table))
    assert_html_rows_complete(tables[0])
    assert tables[0][1][2] == ("<b>&", 1)  # escaped, then read back as text
    assert tables[0][2] == [("section <i>", 3)]
    with pytest.raises(ValueError):
        Table("t", ["a", "b"], [["1", "2", "3"]])


def _fake_results() -> dict:
    """Every key the paper 000 tables show, with made-up values, and the awkward cases."""
    keys = [k for k, _ in paper000.TABLE1_ROWS + paper000.TABLE2_ROWS if k]
    results = {}
    for i, model in enumerate(paper000.MODELS):
        row = {key: 0.1 * (i + 1) for key in keys}
        row.update(
            num_clips=200,
            code_recon_clips=192,
            code_batch_size=16,
            parameters=1234567,
            steps_trained=10,
            probe_test_clips=40,
            content_from_content=0.83,
            content_from_content_se=0.03,
            motion_label="direction_code",
            motion_label_vidis="direction",
            judge_num_swaps=200,
            judge_file="/cache/judges/moving_mnist-x|y.pt",
            judge_accuracy={"digit0": 0.9, "direction": 0.7},
            overrides={"train.steps": 10} if model == "dvae" else {},
            gt_num_clips=200,
            gt_swap_mse=0.0312,
            gt_swap_mse_se=0.0011,
        )
        results[model] = row
    results["dvae"]["motion_correlation"] = None  # undefined
    del results["lstm_vae"]["motion_correlation"]  # not computed: "–"
    return results


def test_paper000_markdown_tables_have_one_cell_per_column():
    results = _fake_results()
    one = assert_markdown_rows_complete(paper000.table1_markdown(results, "smoke"))
    assert one[0][1:] == [f"{paper000.LABELS[m]}: {w}" for m in paper000.MODELS for w in ("paper", "vidis")]
    text = paper000.table2_markdown(results, "smoke")
    two = assert_markdown_rows_complete(text)
    assert two[0] == ["metric", "paper (dvae)", "vidis frame_vae", "vidis lstm_vae", "vidis dvae"]
    by_label = {row[0]: row for row in two}
    content = next(row for label, row in by_label.items() if label.startswith("Content disentanglement"))
    assert "|" in content[0]  # "acc. digit | zc ..." kept whole in the first cell
    probe = next(
        row for label, row in by_label.items() if label.strip().startswith("digit-0 class from content")
    )
    assert probe[2:] == ["0.83 ± 0.03"] * 3
    assert probe[1] == "0.305 ± 0.03 (json)"  # the code's 0.305 on 200 test clips
    motion = next(
        row for label, row in by_label.items() if label.startswith("Motion correlation (B vs swap)")
    )
    assert motion[1:] == ["0.3922", "0.1", "–", "undefined"]
    # the clip counts, the overrides and the judge are stated
    assert "200 test clips" in text and "192 clips in batches of 16" in text
    assert "frame_vae: none" in text and "dvae: train.steps=10" in text
    assert "on 200 swaps" in text and "moving_mnist-x|y.pt" in text and "digit0 0.9" in text
    # the ground-truth swap rows: their pair count, four decimals with the standard error
    assert "on 200 pairs" in text
    gt = next(row for label, row in by_label.items() if label.startswith("MSE of the model's swap"))
    assert gt[1:] == ["–"] + ["0.0312 ± 0.0011"] * 3


def test_paper000_report_tables_have_one_cell_per_column(tmp_path):
    results = _fake_results()
    report = {"steps": 60, "factor_accuracy": {"digit0": 0.5}, "chance": {"digit0": 0.1}}
    page = paper000.write_paper000_report(tmp_path, results, "smoke", report).read_text()
    tables = html_tables(page)
    assert len(tables) == 3  # Table 2, Table 1, the judge
    for table in tables:
        assert_html_rows_complete(table)
    cells = [cell for row in tables[0] for cell, _ in row]
    assert any(c.startswith("Content disentanglement ↑ (acc. digit | zc") for c in cells)
    assert "Judge on 200 swaps" in page


def test_report_section_tables_escape_cells(tmp_path):
    rows = [{"metric": "a|b <x>", "value": 1.5}, {"metric": "c", "other": "&"}]
    page = write_report(tmp_path / "r.html", "t", [Section("s", table=rows)]).read_text()
    (table,) = html_tables(page)
    assert_html_rows_complete(table)
    assert table[1][0] == ("a|b <x>", 1)


def _fake_run(tmp_path, metrics: dict):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    make_spec("dvae", preset="smoke").save(run / "config.json")
    torch.save({"model": {}, "step": 4, "video_shape": [4, 1, 64, 64]}, run / "checkpoints" / "last.pt")
    (run / "metrics.json").write_text(json.dumps(metrics))
    return run


def test_run_report_marks_stale_sections_and_names_the_judge(tmp_path):
    metrics = {
        "test": {"step": 4, "mse": 0.01, "odd | name": "<b>"},
        "judge": {
            "step": 2,
            "num_swaps": 300,
            "content_accuracy": 0.5,
            "judge_file": "/cache/j.pt",
            "judge_accuracy": {"digit0": 0.97},
        },
        "disentanglement": {"motion_correlation": None, "overall_disentanglement": 0.2},
        "step": 4,
    }
    page = write_run_report(_fake_run(tmp_path, metrics)).read_text()
    assert "Metrics: test (computed at step 4)" in page
    assert "Metrics: judge (STALE: computed at step 2, the checkpoint is at step 4)" in page
    assert "Metrics: disentanglement (step unknown)" in page
    assert "Judge used: /cache/j.pt; its own accuracy on real test clips: digit0 0.970." in page
    tables = html_tables(page)
    for table in tables:
        assert_html_rows_complete(table)
    cells = {row[0][0]: row[1][0] for table in tables for row in table[1:] if len(row) == 2}
    assert cells["odd | name"] == "<b>"
    assert cells["motion_correlation"] == "undefined"
    assert cells["checkpoint step"] == "4"


def test_run_report_without_judge_details(tmp_path):
    page = write_run_report(_fake_run(tmp_path, {"judge": {"content_accuracy": 0.5}})).read_text()
    assert "Metrics: judge (step unknown)" in page
    assert "Judge used: not recorded in metrics.json" in page

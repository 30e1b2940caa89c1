"""The leaderboard's outputs (see `vidis.eval.leaderboard`): one flat row per pair and per
reference row ("section.metric" keys), the best value of each column, the caption that says how
every pair was trained and scored, and `OUT/leaderboard.{csv,json,md}` (the HTML report is
`vidis.viz.leaderboard_html`, which reads the same rows).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

from ..config import flatten

# (key of a flattened row, column label, which value is best: "min", "max" or None)
COLUMNS = [
    ("params", "params", None),
    ("train_clips", "train clips", None),
    ("clips_per_s", "clips/s", None),
    ("train_minutes", "train min", None),
    ("test.mse", "recon MSE", "min"),
    ("test.ssim", "recon SSIM", "max"),
    ("gt_swaps.swap_mse", "true-swap MSE", "min"),
    ("gt_swaps.swap_ssim", "true-swap SSIM", "max"),
    ("swaps.content_accuracy", "content kept", "max"),
    ("swaps.motion_accuracy", "motion followed", "max"),
    ("swaps.content_from_motion_source", "content leaked", "min"),
    ("swaps.motion_from_content_source", "motion leaked", "min"),
    ("probes.mean_separation", "probe separation", "max"),
    ("dscore.declared", "D-score", "max"),
    ("dscore.best_split", "D-score best split", "max"),
    ("generation.judge_fd", "judge-FD", "min"),
    ("generation.is", "IS", "max"),
    ("generation.h_y_given_x", "H(y|x)", "min"),
    ("generation.h_y", "H(y)", "max"),
    ("prediction.best_ssim_train_horizon", "pred. best SSIM", "max"),
    ("prediction.mean_ssim_train_horizon", "pred. mean SSIM", "max"),
    ("prediction.best_ssim_beyond", "pred. best SSIM beyond", "max"),
    ("prediction.mean_ssim_beyond", "pred. mean SSIM beyond", "max"),
]


# every output says "not yet run" for a pair that fits but has not been scored (`public_status`);
# these statuses have a row in a table, the others ("does not fit") a line under it
TABLE_STATUSES = ("not yet run", "done", "failed", "reference")


def public_status(status: str) -> str:
    return "not yet run" if status == "fits" else status


def flat_row(pair) -> dict:
    """A `leaderboard.Pair`'s status, reason and every scalar result, keys "section.metric"."""
    row = {"data": pair.data, "model": pair.row, "status": public_status(pair.status),
           "reason": pair.reason}
    row.update(_scalars(pair.results))
    if pair.results.get("figures"):
        row["figures"] = " ".join(pair.results["figures"])  # paths relative to the leaderboard folder
    return row


def _scalars(results: dict) -> dict:
    """Every scalar (or None) of nested `results`, keys "section.metric" (lists left out)."""
    return {k: v for k, v in flatten(results).items() if isinstance(v, (int, float, str)) or v is None}


def best_values(rows: list[dict]) -> dict[str, float]:
    """{column key: best finite value among `rows`} for the columns with a direction."""
    best = {}
    for key, _, better in COLUMNS:
        values = [r[key] for r in rows if _finite(r.get(key))]
        if better and values:
            best[key] = min(values) if better == "min" else max(values)
    return best


def measurement_errors(rows: list[dict]) -> list[str]:
    """ "model: section not measured: message" for every measurement of `rows` that raised."""
    return [
        f"{r['model']}: {key.removesuffix('.error')} not measured: {value}"
        for r in rows
        for key, value in r.items()
        if key.endswith(".error")
    ]


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def format_cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 100):
        return f"{int(value):,}"
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def caption(data: str, meta: dict) -> str:
    budget = meta["budget"]
    judge = meta["judges"].get(data) or {}
    accuracy = ", ".join(f"{k} {v:.3f}" for k, v in judge.get("accuracy", {}).items())
    judge_text = (
        f"judge: {Path(judge['file']).name} ({judge.get('kind')}, {judge.get('steps')} steps); its own "
        f"accuracy on {judge.get('test_clips')} real test clips: {accuracy}"
        if judge.get("file")
        else "judge: none (no pair evaluated yet, or the dataset has no factors)"
    )
    return (
        f"{data}, preset {meta['preset']}: every model trained on {budget['clips']:,} clips "
        f"({budget['steps']:,} steps x batch {budget['batch_size']}, clips summed over a model's stages; "
        f"seed {budget['seed']}), scored on the same {meta['num_clips']:,} test clips. {judge_text}. "
        "Bold: the best value of each column among the models. Rows 'ref: ...' need no model (the "
        "content source A or the motion source B copied as the swap, all-black frames, the last observed "
        "frame repeated as the prediction): a model's number means something only beside what they earn. "
        "–: not measured (does not apply, not yet run, or failed). "
        "judge-FD compares only within one table (same judge, same number of clips)."
    )


def reference_flat_rows(meta: dict) -> list[dict]:
    """The rows of `meta["references"]` (`leaderboard_eval.reference_rows`), flattened as pairs'."""
    from .leaderboard_eval import REFERENCES  # noqa: PLC0415

    rows = []
    for data, references in meta.get("references", {}).items():
        for name, results in references.items():
            row = {"data": data, "model": name, "status": "reference", "reason": REFERENCES.get(name, "")}
            row.update(_scalars(results))
            rows.append(row)
    return rows


def write_tables(out: Path, pairs: list, meta: dict, write_html):
    """OUT/leaderboard.{csv,json,md} of `pairs` (`leaderboard.Pair`) and the reference rows, and the
    report through `write_html(out, rows, meta)`."""
    rows = [flat_row(p) for p in pairs] + reference_flat_rows(meta)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with open(out / "leaderboard.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, keys)
        writer.writeheader()
        writer.writerows(rows)
    everything = {
        **meta,
        "pairs": [
            {
                "data": p.data,
                "model": p.model,
                "row": p.row,
                "preset": p.preset,
                "status": public_status(p.status),
                "reason": p.reason,
                "stage_clips": p.stage_clips,
                "results": p.results,
            }
            for p in pairs
        ],
    }
    (out / "leaderboard.json").write_text(json.dumps(everything, indent=2, default=_json) + "\n")
    (out / "leaderboard.md").write_text(markdown(rows, meta))
    write_html(out, rows, meta)


def _json(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return str(value)


def markdown(rows: list[dict], meta: dict) -> str:
    from ..viz.tables import Table, to_markdown  # noqa: PLC0415

    parts = [f"# vidis leaderboard ({meta['preset']})\n"]
    for data in dict.fromkeys(r["data"] for r in rows):
        these = [r for r in rows if r["data"] == data]
        scored = [r for r in these if r["status"] in TABLE_STATUSES]
        best = best_values([r for r in scored if r["status"] == "done"])
        table = Table(data, ["model", "status"] + [label for _, label, _ in COLUMNS])
        for r in scored:
            cells = [r["model"], r["status"]]
            for key, _, _ in COLUMNS:
                text = format_cell(r.get(key))
                cells.append(f"**{text}**" if key in best and r.get(key) == best[key] else text)
            table.rows.append(cells)
        table.notes += [caption(data, meta), ""]
        for r in these:
            if r["status"] in ("does not fit", "failed"):
                table.notes.append(f"- {r['model']}: {r['status']}: {r['reason']}")
        table.notes += [f"- {note}" for note in measurement_errors(these)]
        parts.append(to_markdown(table, level=2))
    return "\n".join(parts)

"""report.html of `vidis leaderboard`: one sortable table per dataset, then per dataset the same
swap pairs for every model beside the true swap (figures written by `eval.leaderboard_eval`)."""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import quote

from .report import Section, write_report

# Click a column heading to sort by it (again: the other way); numbers sort as numbers, "–" last.
SORT_SCRIPT = """<script>
document.querySelectorAll('table.sortable th').forEach(function (th, col) {
  th.style.cursor = 'pointer';
  th.addEventListener('click', function () {
    var body = th.closest('table').tBodies[0];
    var up = th.dataset.dir !== 'up'; th.dataset.dir = up ? 'up' : 'down';
    var key = function (tr) {
      var v = tr.cells[col].dataset.value; return v === undefined ? tr.cells[col].textContent : v;
    };
    Array.from(body.rows).sort(function (a, b) {
      var x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
      if (x === '') return 1; if (y === '') return -1;
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return up ? c : -c;
    }).forEach(function (tr) { body.appendChild(tr); });
  });
});
</script>"""


def table_html(rows: list[dict], columns, best: dict) -> str:
    """A sortable table: one row per pair, best value of each column in bold."""
    from ..eval.leaderboard_tables import _finite, format_cell  # noqa: PLC0415

    head = "".join(
        f"<th>{html.escape(label)}</th>" for label in ["model", "status"] + [c[1] for c in columns]
    )
    body = []
    for row in rows:
        status = row["status"]
        title = f" title='{html.escape(row['reason'], quote=True)}'" if row.get("reason") else ""
        cells = [f"<td>{html.escape(row['model'])}</td>", f"<td{title}>{html.escape(status)}</td>"]
        for key, _, _ in columns:
            value = row.get(key)
            data = f" data-value='{value!r}'" if _finite(value) else " data-value=''"
            text = html.escape(format_cell(value))
            text = f"<b>{text}</b>" if key in best and value == best[key] else text
            cells.append(f"<td class='num'{data}>{text}</td>")
        body.append(f"<tr class='pair'>{''.join(cells)}</tr>")
    return f"<table class='sortable'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def write_leaderboard(out: Path, rows: list[dict], meta: dict) -> Path:
    """Write OUT/report.html from the flattened rows (`leaderboard_tables.flat_row`) and meta."""
    from ..eval.leaderboard_tables import (  # noqa: PLC0415
        COLUMNS,
        TABLE_STATUSES,
        best_values,
        caption,
        measurement_errors,
    )

    out = Path(out)
    sections = []
    for data in dict.fromkeys(r["data"] for r in rows):
        these = [r for r in rows if r["data"] == data]
        shown = [r for r in these if r["status"] in TABLE_STATUSES]
        best = best_values([r for r in shown if r["status"] == "done"])
        notes = "".join(
            "<p class='meta'>" + html.escape(f"{r['model']}: {r['status']}: {r['reason']}") + "</p>"
            for r in these
            if r["status"] in ("does not fit", "failed")
        ) + "".join("<p class='meta'>" + html.escape(note) + "</p>" for note in measurement_errors(these))
        sections.append(
            Section(
                f"{data}",
                text=caption(data, meta),
                html="<div style='overflow-x:auto'>" + table_html(shown, COLUMNS, best) + "</div>" + notes,
            )
        )
        figures = [src for src in meta.get("figures", {}).get(data, []) if src.endswith(".gif")]
        if figures:
            sections.append(
                Section(
                    f"{data}: the same swap pairs for every model",
                    text="Columns: pairs (clip i's content with clip i + 1's motion). Rows: A (content "
                    "source), B (motion source), the true swap where the dataset renders it (identity "
                    "ordering), then each model's swap. Per model, the same pairs beside the true swap "
                    f"in the ordering closest to its swap: {data}/figures/<model>-swaps.gif.",
                    html="<div class='images'>" + "".join(_figure(src, data) for src in figures) + "</div>",
                )
            )
    if sections:
        sections[-1].html += SORT_SCRIPT
    return write_report(out / "report.html", f"vidis leaderboard ({meta['preset']})", sections)


def _figure(src: str, what: str) -> str:
    url = html.escape(quote(Path(src).as_posix()), quote=True)
    return (
        f"<figure><img src='{url}' alt='{html.escape(what, quote=True)} swaps'>"
        f"<figcaption>{html.escape(src)}</figcaption></figure>"
    )

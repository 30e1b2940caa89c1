"""Tables written as Markdown and as HTML from one description, with every cell escaped.

A `Table` is a title, a header row, body rows of plain text and notes. `to_markdown` escapes
`|` (which would otherwise split a cell) and line breaks; `to_html` escapes HTML. Both keep one
cell per column in every row; `parse_markdown_table` reads a written table back (for tests and
for tools that post-process tables).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

__all__ = ["Table", "escape_markdown_cell", "parse_markdown_table", "to_html", "to_markdown"]


@dataclass
class Table:
    """header: column names; rows: one list of cell texts per row, as long as the header
    (a row of one cell is a section heading spanning the table); notes: lines printed below."""

    title: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    align_right_from: int = 1  # columns from this index on are right-aligned (numbers)

    def __post_init__(self):
        for row in self.rows:
            if len(row) not in (1, len(self.header)):
                raise ValueError(f"row {row!r} has {len(row)} cells; the header has {len(self.header)}")


def escape_markdown_cell(text) -> str:
    """Cell text safe inside a Markdown table row: `|` -> `\\|`, line breaks -> spaces."""
    text = str(text).replace("\\", "\\\\").replace("|", "\\|")
    return " ".join(text.splitlines())


def to_markdown(table: Table, level: int = 1) -> str:
    """The table as GitHub-flavoured Markdown: a heading, the table, then the notes."""
    columns = len(table.header)
    lines = [f"{'#' * level} {table.title}", ""] if table.title else []
    lines.append("| " + " | ".join(escape_markdown_cell(c) for c in table.header) + " |")
    lines.append("|" + "".join("---:|" if i >= table.align_right_from else "---|" for i in range(columns)))
    for row in table.rows:
        if len(row) == 1:
            cells = [f"**{escape_markdown_cell(row[0])}**"] + [""] * (columns - 1)
            lines.append("| " + " | ".join(cells) + " |")
            continue
        lines.append("| " + " | ".join(escape_markdown_cell(c) for c in row) + " |")
    if table.notes:
        lines.append("")
        lines += table.notes
    return "\n".join(lines) + "\n"


def to_html(table: Table) -> str:
    """The table as an HTML <table> (section rows span every column) followed by its notes."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.header)
    body = []
    for row in table.rows:
        if len(row) == 1:
            body.append(f"<tr><th colspan='{len(table.header)}'>{html.escape(str(row[0]))}</th></tr>")
            continue
        cells = "".join(
            (
                f"<td class='num'>{html.escape(str(c))}</td>"
                if i >= table.align_right_from
                else f"<td>{html.escape(str(c))}</td>"
            )
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    notes = "".join(f"<p class='meta'>{html.escape(note)}</p>" for note in table.notes)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{notes}"


_UNESCAPED_PIPE = re.compile(r"(?<!\\)((?:\\\\)*)\|")


def _split_row(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    marked = _UNESCAPED_PIPE.sub(lambda m: m.group(1) + "\x00", inner)
    return [re.sub(r"\\(.)", r"\1", c.strip()) for c in marked.split("\x00")]


def parse_markdown_table(text: str) -> list[list[str]]:
    """Rows (header first, the --- line left out) of the first Markdown table in `text`, each
    split on unescaped `|` with escapes undone."""
    rows, started = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("|"):
            started = True
            cells = _split_row(line)
            if all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
                continue
            rows.append(cells)
        elif started:
            break
    return rows

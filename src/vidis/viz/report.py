"""A self-contained static HTML report: sections of text, tables and images (GIF or PNG).

The page has inline CSS and no scripts or external assets; images are referenced by paths
relative to the report's folder, so the folder can be zipped or served as it is.
"""

from __future__ import annotations

import html
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from PIL import Image

from .video import atomic_path

SMALL_IMAGE = 256  # images narrower than this are shown enlarged by an integer factor
MAX_ENLARGE = 4

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1100px; padding: 1.5em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
.meta { color: #777; font-size: 0.85em; }
p.text { white-space: pre-wrap; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.7em; }
th { background: #f4f4f4; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.images { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
figure { margin: 0; }
figure img { image-rendering: pixelated; max-width: 100%; height: auto; display: block; }
figcaption { color: #666; font-size: 0.8em; margin-top: 0.2em; }
"""


@dataclass
class Section:
    """One part of a report. `text` is escaped; `html` is inserted as it is (trusted input).

    table: rows as dicts (columns are the union of keys, in order of first appearance).
    images: paths relative to the report's folder (GIF or PNG).
    """

    title: str
    text: str = ""
    table: list[dict] | None = None
    images: Sequence[str] = ()
    html: str = ""


def _version() -> str:
    try:
        from vidis import __version__

        return str(__version__)
    except ImportError:
        pass
    try:
        from importlib.metadata import version

        return version("vidis")
    except Exception:
        return "dev"


def format_value(value) -> str:
    """Floats to 4 significant digits, ints with thousands separators, None as empty."""
    if value is None:
        return ""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()  # numpy / torch scalars
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        value = float(value)
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def _is_number(value) -> bool:
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def render_table(rows: Sequence[Mapping]) -> str:
    """An HTML table from a list of dicts; numbers right-aligned."""
    if not rows:
        return "<p class='meta'>(empty table)</p>"
    columns = list(dict.fromkeys(key for row in rows for key in row))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c)
            cls = " class='num'" if _is_number(value) else ""
            cells.append(f"<td{cls}>{html.escape(format_value(value))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _render_image(src: str, folder: Path) -> str:
    """A <figure> for `src` (relative to `folder`); small images are enlarged by a whole factor."""
    width_attr = ""
    try:
        with Image.open(folder / src) as im:
            width = im.width
        if width < SMALL_IMAGE:
            factor = min(MAX_ENLARGE, max(1, SMALL_IMAGE // width))
            width_attr = f" width='{width * factor}'"
    except (OSError, ValueError):
        pass  # not there yet or unreadable: let the browser size it
    url = html.escape(quote(Path(src).as_posix()), quote=True)
    name = html.escape(Path(src).name)
    img = f"<img src='{url}' alt='{name}'{width_attr}>"
    return f"<figure>{img}<figcaption>{name}</figcaption></figure>"


def _render_section(section: Section, folder: Path) -> str:
    parts = [f"<section><h2>{html.escape(section.title)}</h2>"]
    if section.text:
        parts.append(f"<p class='text'>{html.escape(section.text)}</p>")
    if section.table is not None:
        parts.append(render_table(section.table))
    if section.images:
        figures = "".join(_render_image(src, folder) for src in section.images)
        parts.append(f"<div class='images'>{figures}</div>")
    if section.html:
        parts.append(section.html)
    parts.append("</section>")
    return "\n".join(parts)


def write_report(path: str | os.PathLike, title: str, sections: Sequence[Section]) -> Path:
    """Write a static HTML page with `sections` to `path` (atomically); returns the path."""
    path = Path(path)
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    body = "\n".join(_render_section(s, path.parent) for s in sections)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{CSS}</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p class="meta">generated {html.escape(stamp)} by vidis {html.escape(_version())}</p>
{body}
</body>
</html>
"""
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


def metrics_table(metrics: Mapping, prefix: str = "") -> list[dict]:
    """Flatten nested metrics into rows: {"test": {"mse": 0.1}} -> [{"metric": "test.mse", ...}].

    Nested dicts of any depth are joined with dots; keys keep their order.
    """
    rows = []
    for key, value in metrics.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            rows.extend(metrics_table(value, name))
        else:
            rows.append({"metric": name, "value": value})
    return rows

"""The one way every benchmark records a run: one JSON line appended to its results file."""

from __future__ import annotations

import json
from pathlib import Path


def append_result(path, record: dict) -> None:
    """Append `record` as one JSON line to `path` (its folder made if missing) and say where."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")
    print(f"appended to {path}")

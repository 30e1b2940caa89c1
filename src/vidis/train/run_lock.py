"""One process at work in a run folder: an exclusive lock on `RUN/.lock` while a process trains
or evaluates in it.

Two processes training the same folder (a `vidis train --resume RUN` started twice, two
`vidis leaderboard` or `reproduce` calls on the same `--out`) would interleave their checkpoints
and log rows. The lock is `fcntl.flock` on `RUN/.lock`, so the operating system releases it when
the process ends, however it ends (Ctrl-C, a crash, `kill -9`): there is never a stale lock to
delete by hand. The second process gets a `RunInUseError` (a `RunFolderError`) naming the holder
and what it is doing. The leaderboard's evaluation takes the same lock, so two leaderboards on
one `--out` never evaluate the same run twice (`vidis.eval.leaderboard_eval.evaluate_run`). The
lock is re-entrant within one process (a resumed `Trainer` in the same process reuses it). While held,
the file says which process holds it; it is emptied on release and left in place (deleting it
would let two waiting processes lock two different files). Where `fcntl` does not exist
(Windows) runs are not locked.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from ..errors import RunInUseError

LOCK_FILE = ".lock"
_held: dict[Path, list] = {}  # resolved lock path -> [open file, how many holders in this process]


def acquire_run_lock(run_dir, doing: str = "training") -> Path | None:
    """Lock `run_dir` for this process (creating the folder); returns the lock's path (None where
    files cannot be locked). `doing` is what the lock file says this process does there. Raises
    RunInUseError if another process holds it."""
    try:
        import fcntl  # noqa: PLC0415
    except ImportError:  # Windows
        return None
    path = (Path(run_dir) / LOCK_FILE).resolve()
    if path in _held:
        _held[path][1] += 1
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115  (kept open while the lock is held)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise RunInUseError(
            f"{Path(run_dir)} is in use: {holder}; wait for it to finish or stop it "
            "(the lock goes with the process)"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"process {os.getpid()} on {socket.gethostname()}, {doing}\n")
    handle.flush()
    _held[path] = [handle, 1]
    return path


def release_run_lock(path: Path | None) -> None:
    """Give up one hold of the lock at `path` (from `acquire_run_lock`); the last one unlocks."""
    entry = _held.get(path) if path is not None else None
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] == 0:
        del _held[path]
        handle = entry[0]
        handle.seek(0)
        handle.truncate()
        handle.close()  # closing the file releases the flock

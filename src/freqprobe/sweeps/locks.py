"""Run locks of a sweep: a run is trained by at most one process at a time, even across machines sharing DIR.

A lock is a small JSON file (``host``, ``pid``, ``started``, ``token``) published with ``os.link``, which fails when
the name exists, also on NFS. A lock left by a dead process on this host is taken over; one from another host never
is, since its pid means nothing here.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from pathlib import Path



def acquire_lock(path: Path) -> dict | None:
    """Take the lock file at ``path``; return None on success or the holder's record when another process has it.

    The record is written completely before ``os.link`` publishes it, so a lock is never seen half-written, and
    ``link`` fails when the name exists, also on NFS. A lock left by a dead process on this host is taken over.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"host": socket.gethostname(), "pid": os.getpid(), "started": time.time(), "token": uuid.uuid4().hex}
    draft = path.with_name(f".{path.name}.{record['token']}")
    draft.write_text(json.dumps(record), encoding="utf-8")
    try:
        for _ in range(3):
            try:
                os.link(draft, path)
                return None
            except FileExistsError:
                holder = read_lock(path)
                if holder is not None and not is_stale(holder):
                    return holder
                _remove_stale_lock(path, holder)
        return read_lock(path) or {"host": "?", "pid": "?"}
    finally:
        draft.unlink(missing_ok=True)


def release_lock(path: Path) -> None:
    """Remove the lock at ``path`` if this process holds it."""
    holder = read_lock(path)
    if holder is not None and holder.get("host") == socket.gethostname() and holder.get("pid") == os.getpid():
        path.unlink(missing_ok=True)


def read_lock(path: Path) -> dict | None:
    """The lock's record, or None when it is gone or unreadable."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def is_stale(holder: dict) -> bool:
    """True when the holder ran on this host and its process is gone (a crash or ``kill -9``).

    A lock from another host is never judged stale: its pid means nothing here. Our own pid with a lock we do not
    hold (a sweep runs one run at a time) can only be a leftover of an earlier process that had the same pid.
    """
    if holder.get("host") != socket.gethostname():
        return False
    pid = holder.get("pid")
    if not isinstance(pid, int) or pid <= 0 or pid == os.getpid():
        return True
    return not _pid_alive(pid)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user
    return True


def _remove_stale_lock(path: Path, holder: dict | None) -> None:
    """Move the stale lock aside atomically; if a fresh lock was moved instead (a race), put it back."""
    aside = path.with_name(f".{path.name}.stale.{uuid.uuid4().hex}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return  # another process took it over first
    if read_lock(aside) != holder:
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
    aside.unlink(missing_ok=True)


def describe_holder(holder: dict) -> str:
    return f"{holder.get('host', '?')}:{holder.get('pid', '?')}"

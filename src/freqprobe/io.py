"""Atomic file writes (a crash or ``kill -9`` leaves either the old file or the new one, never half of one), output
sets published together, output-folder checks, and JSON readers whose errors name the file and the fix.

Temporaries: every writer here stages its work in a hidden folder ``.NAME.XXXXXXXX.tmp`` beside the file (or the
index file) ``NAME`` it replaces, and holds an exclusive ``flock`` on that folder while it writes. The kernel drops
the lock when the writer ends, however it ends (``kill -9`` included). So the rule of
:func:`remove_stale_temporaries` is: a ``.NAME.XXXXXXXX.tmp`` entry whose lock can be taken belongs to a dead writer
and is removed; one that a live process writes is locked and left alone.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import fnmatch
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from freqprobe.errors import FreqprobeError, WriteError

# ".NAME.XXXXXXXX.tmp": what tempfile.mkdtemp (and the mkstemp of earlier versions) make of ".NAME." + ".tmp"
_TEMPORARY = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")

# Errors of the disk or the folder rather than of the code; each gets one line with its fix.
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)
_STORAGE_ERRORS = (*_NO_SPACE, *_NOT_WRITABLE, errno.EIO, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG)


# ------------------------------------------------------------------------------------------------- single files


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path for ``path``; on success it is made shareable (mode ``0o666 & ~umask``), fsynced and
    renamed over ``path``. On any error ``path`` is untouched and the temporary removed.

    Raises:
        WriteError: the disk is full, read-only, or refuses the write (one line naming ``path`` and the fix).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked_temporary_folder(path.parent, path.name) as folder:
            tmp_path = folder / path.name
            yield tmp_path
            _make_shareable(tmp_path)
            with open(tmp_path, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp_path, path)
    except OSError as error:
        if error.errno not in _STORAGE_ERRORS:
            raise
        raise WriteError(describe_write_error(path, error)) from None


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def relative_name(path: str | os.PathLike, folder: str | os.PathLike) -> str:
    """``path`` as named from ``folder`` (e.g. ``..`` for a run seen from its analysis folder), so that files written
    into ``folder`` carry no machine path; :func:`named_path` reads it back."""
    return os.path.relpath(os.path.abspath(path), os.path.abspath(folder))


def named_path(folder: str | os.PathLike, name: str) -> Path:
    """The absolute path a name written by :func:`relative_name` (or an older absolute path) stands for."""
    return Path(os.path.normpath(os.path.join(os.path.abspath(folder), name)))


def atomic_save(path: str | os.PathLike, save: Callable[[Path], None]) -> None:
    """Call ``save(tmp_path)`` (e.g. ``fig.savefig``) and rename atomically; see :func:`atomic_path`.

    ``save`` may create a new file at ``tmp_path`` (as safetensors does) or write into it.
    """
    with atomic_path(path) as tmp:
        save(tmp)


def append_jsonl(path: str | os.PathLike, record: dict) -> None:
    """Append one JSON line and fsync, so a killed process loses at most the line being written.

    Raises:
        WriteError: the disk is full or refuses the write.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, default=_json_default) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        if error.errno not in _STORAGE_ERRORS:
            raise
        raise WriteError(describe_write_error(path, error)) from None


def describe_write_error(path: str | os.PathLike, error: OSError) -> str:
    """One line: which file could not be written, why, and what to do."""
    reason = error.strerror or str(error)
    if error.errno in _NO_SPACE:
        fix = "free space on that disk (or write to another folder) and run the command again"
    elif error.errno in _NOT_WRITABLE:
        fix = "make the folder writable or choose another output folder"
    else:
        fix = "check the folder and run the command again"
    code = errno.errorcode.get(error.errno, error.errno)
    return f"cannot write {path}: {reason} ({code}); {fix}; files written earlier are unchanged"


# ---------------------------------------------------------------------------------------------------- output sets


@contextlib.contextmanager
def output_set(out_dir: str | os.PathLike, index: str, owns: Iterable[str] = ()) -> Iterator[Path]:
    """Publish the files one command writes into ``out_dir`` together, so the folder never mixes two runs.

    Yields a hidden staging folder inside ``out_dir``: write every file of the set there, under its final name, the
    index file ``index`` (the JSON that describes the rest) included. When the block ends without error, the old
    ``index`` is removed first, every staged file replaces its namesake, the files of ``out_dir`` that match a name
    or glob pattern of ``owns`` but were not staged (what the previous run of this command wrote and this one does
    not) are removed, and the new ``index`` goes in last. Files of other commands (not matched by ``owns``) are never
    touched. On an error or a kill while the set is staged, ``out_dir`` keeps its previous set; the staging folder
    is removed (or, after a kill, by the next :func:`prepare_output_dir` or output set in that folder).

    Raises:
        WriteError: ``out_dir`` is not writable, or the disk is full.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(out_dir)
        with _locked_temporary_folder(out_dir, index) as staging:
            yield staging
            _publish(staging, out_dir, index, owns)
    except OSError as error:
        if error.errno not in _STORAGE_ERRORS:
            raise
        raise WriteError(describe_write_error(getattr(error, "filename", None) or out_dir, error)) from None


def _publish(staging: Path, out_dir: Path, index: str, owns: Iterable[str]) -> None:
    staged = sorted(path.name for path in staging.iterdir() if path.is_file() and not _TEMPORARY.match(path.name))
    for name in staged:
        _make_shareable(staging / name)
    # Without its index the old set no longer claims to describe the files that are about to change.
    (out_dir / index).unlink(missing_ok=True)
    for name in staged:
        if name != index:
            os.replace(staging / name, out_dir / name)
    patterns = list(owns)
    for path in out_dir.iterdir():
        if path.name not in staged and path.is_file() and any(fnmatch.fnmatchcase(path.name, p) for p in patterns):
            path.unlink()
    if index in staged:
        os.replace(staging / index, out_dir / index)
    _fsync_folder(out_dir)


# ---------------------------------------------------------------------------------------------- output folders


def prepare_output_dir(path: str | os.PathLike, option: str = "--out") -> Path:
    """Check, before any work, that ``path`` is (or can become) a writable folder, and remove the temporaries that
    killed writers left in it (see the module docstring for the rule). The folder itself is not created.

    Raises:
        WriteError: ``path`` (or a folder above it) is a file, or the folder is not writable; the line names
            ``option`` and the path.
    """
    path = Path(path)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "is an existing file" if existing == path else f"lies under the file {existing}"
        raise WriteError(f"{option} {path} {where}; give a folder path")
    try:
        fd, probe = tempfile.mkstemp(prefix=".freqprobe-write-test.", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        reason = error.strerror or str(error)
        raise WriteError(
            f"{option} {path} is not writable ({reason} in {existing}); choose a writable folder or fix its permissions"
        ) from None
    if path.is_dir():
        remove_stale_temporaries(path)
    return path


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove the ``.NAME.XXXXXXXX.tmp`` files and folders in ``folder`` that no live writer holds locked.

    Returns the paths removed. Entries another process is writing (locked) and other files are left alone.
    """
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        if _TEMPORARY.match(entry.name) and _remove_if_unlocked(entry):
            removed.append(entry)
    return removed


def _remove_if_unlocked(entry: Path) -> bool:
    try:
        fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False  # gone already, or a link: not ours
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False  # a live writer holds it
    try:
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    finally:
        os.close(fd)
    return True


@contextlib.contextmanager
def _locked_temporary_folder(parent: Path, name: str) -> Iterator[Path]:
    """A new ``parent/.NAME.XXXXXXXX.tmp/`` folder, flocked while the block runs, removed after it."""
    folder = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=parent))
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)


def _make_shareable(path: Path) -> None:
    # Some writers (mkstemp, safetensors) create 0600 files; results are shared like any file the user writes.
    os.chmod(path, 0o666 & ~_current_umask())


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------------------------------ reading


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """Read JSON lines, ignoring a torn last line left by a killed writer."""
    records = []
    path = Path(path)
    if not path.exists():
        return records
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return records


def read_json_object(path: str | os.PathLike, missing: str, fix: str) -> dict[str, Any]:
    """The JSON object in ``path``.

    Raises:
        FreqprobeError: one line; ``missing`` when the file does not exist, else that it is not valid JSON or not an
            object, followed by ``fix`` (e.g. "restore it or re-run the training").
    """
    path = Path(path)
    if not path.is_file():
        raise FreqprobeError(missing)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FreqprobeError(f"{path} is not valid JSON ({error}); {fix}") from None
    if not isinstance(value, dict):
        raise FreqprobeError(f"{path} does not hold a JSON object; {fix}")
    return value


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")

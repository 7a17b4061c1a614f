"""Where datasets and decoded-data caches live on disk.

Data root: ``--data-dir`` > ``$FREQPROBE_DATA`` > ``~/.cache/freqprobe``.
Decoded-data cache: ``$FREQPROBE_CACHE`` > ``~/.cache/freqprobe/decoded``.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "FREQPROBE_DATA"
CACHE_ENV = "FREQPROBE_CACHE"


def default_home() -> Path:
    return Path("~/.cache/freqprobe").expanduser()


def resolve_root(data_dir: str | os.PathLike | None = None) -> Path:
    """The absolute data root: ``data_dir`` if given, else ``$FREQPROBE_DATA``, else ``~/.cache/freqprobe``.

    Relative paths are taken relative to the current directory. The folder need not exist yet.
    """
    if data_dir is None or str(data_dir) == "":
        data_dir = os.environ.get(DATA_ENV) or default_home()
    return _absolute(data_dir)


def resolve_cache_dir() -> Path:
    """The absolute folder for decoded-data caches: ``$FREQPROBE_CACHE`` or ``~/.cache/freqprobe/decoded``."""
    configured = os.environ.get(CACHE_ENV)
    return _absolute(configured) if configured else default_home() / "decoded"


def _absolute(path: str | os.PathLike) -> Path:
    # abspath rather than resolve(): fold "..", but keep the user's symlinks in messages.
    return Path(os.path.abspath(Path(path).expanduser()))

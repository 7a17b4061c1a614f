"""Shared fixtures. Real-data tests read ``FREQPROBE_DATA`` (CI sets it to ../shared/data).

When CI runs (``CI`` set) and the data is missing, those tests fail instead of skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _shared_data_dir() -> Path:
    configured = os.environ.get("FREQPROBE_DATA")
    return Path(configured) if configured else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder holding ``fashion-mnist/`` and ``cifar10-jpeg.tar.gz``."""
    root = _shared_data_dir()
    if not (root / "fashion-mnist").is_dir() or not (root / "cifar10-jpeg.tar.gz").is_file():
        message = f"real data not found in {root} (set FREQPROBE_DATA to the folder with fashion-mnist/ and cifar10-jpeg.tar.gz)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return root


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep decoded-data caches of the tests out of the user's ~/.cache, but share them across one session."""
    monkeypatch.setenv("FREQPROBE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))

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


# ---- device and dtype ---------------------------------------------------------------------------------------------
# A test that takes ``device`` runs once on the CPU and once more on CUDA where a GPU is visible, so the CUDA
# branches are tested wherever one is; ``dtype`` runs it in float32 and float64. An explicit
# ``@pytest.mark.parametrize("dtype", ...)`` on a test replaces the default list.

FLOAT_DTYPES = ("float32", "float64")


def available_devices() -> list[str]:
    """``["cpu"]``, plus ``"cuda"`` when torch sees a GPU (torch is imported only for tests that ask)."""
    import torch

    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def _parametrized_explicitly(metafunc, name: str) -> bool:
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", ())
        if isinstance(names, str):
            names = [part.strip() for part in names.split(",")]
        if name in names:
            return True
    return False


def pytest_generate_tests(metafunc):
    if "device" in metafunc.fixturenames and not _parametrized_explicitly(metafunc, "device"):
        metafunc.parametrize("device", available_devices(), indirect=True)
    if "dtype" in metafunc.fixturenames and not _parametrized_explicitly(metafunc, "dtype"):
        metafunc.parametrize("dtype", FLOAT_DTYPES, indirect=True)


@pytest.fixture
def device(request):
    """A ``torch.device``: the CPU, and CUDA when available (see :func:`pytest_generate_tests`)."""
    import torch

    return torch.device(request.param)


@pytest.fixture
def dtype(request):
    """A float ``torch.dtype``: float32 and float64."""
    import torch

    return getattr(torch, request.param)

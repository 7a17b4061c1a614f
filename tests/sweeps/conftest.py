"""Fixtures of the sweep tests: a live process to hold a lock, and a stand-in for the training engine."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sweep_fakes import FakeTrainer


@pytest.fixture
def other_process():
    """A live process on this host that is not us."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


@pytest.fixture
def fake_engine(monkeypatch):
    import freqprobe.train

    trainer = FakeTrainer()
    monkeypatch.setattr(freqprobe.train, "run_training", trainer, raising=False)
    return trainer

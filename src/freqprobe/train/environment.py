"""``env.json``: what a run ran on (versions, machine, device, code revision), for reproducing its numbers."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy
import torch

import freqprobe
from freqprobe.train.fastpaths import FastPaths


def cpu_model() -> str:
    """The CPU's marketing name (``/proc/cpuinfo`` on Linux, ``platform.processor()`` elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_revision(package_dir: Path | None = None) -> dict | None:
    """``{"commit", "dirty"}`` when freqprobe runs from a git checkout, else None (an installed wheel)."""
    directory = package_dir or Path(freqprobe.__file__).resolve().parent
    try:
        # an installed copy inside some other repository (a venv in a project) must not report that repository
        _git(directory, "ls-files", "--error-unmatch", "__init__.py")
        commit = _git(directory, "rev-parse", "HEAD")
        status = _git(directory, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(status)}


def _git(directory: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(directory), *args], capture_output=True, text=True, timeout=10, check=True
    )
    return done.stdout.strip()


def describe_environment(paths: FastPaths, world_size: int = 1) -> dict:
    """The content of ``env.json``."""
    env = {
        "freqprobe_version": freqprobe.__version__,
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "device": paths.device,
        "world_size": world_size,
        "git": git_revision(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if paths.device_type == "cuda":
        env["cuda"] = torch.version.cuda
        env["gpu"] = torch.cuda.get_device_name(paths.torch_device)
        env["cudnn"] = torch.backends.cudnn.version()
    return env

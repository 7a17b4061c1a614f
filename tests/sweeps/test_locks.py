"""freqprobe.sweeps.locks: exclusive run locks; stale ones of dead processes on this host are taken over."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from freqprobe.sweeps.locks import acquire_lock, read_lock, release_lock

from sweep_helpers import write_lock


def test_a_lock_is_exclusive_and_released(tmp_path, other_process):
    path = tmp_path / "locks" / "a.lock"
    assert acquire_lock(path) is None
    assert read_lock(path)["pid"] == os.getpid()
    release_lock(path)
    assert not path.exists()
    write_lock(path, socket.gethostname(), other_process.pid)
    holder = acquire_lock(path)
    assert holder["pid"] == other_process.pid
    release_lock(path)  # not ours: stays
    assert read_lock(path)["pid"] == other_process.pid


def test_a_stale_lock_of_a_dead_process_on_this_host_is_taken_over(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(finished.stdout)
    path = tmp_path / "locks" / "a.lock"
    write_lock(path, socket.gethostname(), dead_pid)
    assert acquire_lock(path) is None
    assert read_lock(path)["pid"] == os.getpid()


def test_a_lock_from_another_host_is_never_taken_over(tmp_path):
    path = tmp_path / "locks" / "a.lock"
    write_lock(path, "some-other-machine", 1)
    assert acquire_lock(path)["host"] == "some-other-machine"

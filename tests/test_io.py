"""Atomic writes and JSON readers: what a crash leaves behind, and one-line errors that name the file."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

from freqprobe.errors import FreqprobeError
from freqprobe.io import append_jsonl, atomic_save, atomic_write_json, read_json_object, read_jsonl


def test_atomic_write_json_replaces_whole_file_with_shareable_permissions(tmp_path):
    path = tmp_path / "deep" / "metrics.json"
    atomic_write_json(path, {"accuracy": np.float32(0.5).item(), "curve": np.arange(3), "where": tmp_path})
    assert json.loads(path.read_text()) == {"accuracy": 0.5, "curve": [0, 1, 2], "where": str(tmp_path)}
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in path.parent.iterdir()] == ["metrics.json"]  # no temporary file left


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"old checkpoint")

    def crash_half_way(tmp):
        tmp.write_bytes(b"half a new")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_save(path, crash_half_way)
    assert path.read_bytes() == b"old checkpoint"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]


def test_read_jsonl_stops_at_a_torn_last_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    append_jsonl(path, {"epoch": 1})
    append_jsonl(path, {"epoch": 2})
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"epoch": 3, "val_acc')  # what kill -9 in the middle of a write leaves
    assert read_jsonl(path) == [{"epoch": 1}, {"epoch": 2}]
    assert read_jsonl(tmp_path / "absent.jsonl") == []


@pytest.mark.parametrize(
    "content, expected",
    [
        (None, "no such run: give a run folder"),
        ("{oops", "is not valid JSON"),
        ("[1, 2]", "does not hold a JSON object"),
    ],
)
def test_read_json_object_errors_name_the_file_and_the_fix(tmp_path, content, expected):
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(FreqprobeError) as raised:
        read_json_object(path, missing="no such run: give a run folder", fix="restore it")
    message = str(raised.value)
    assert expected in message and "\n" not in message
    if content is not None:
        assert str(path) in message and message.endswith("; restore it")


def test_read_json_object_returns_the_object(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"model": "resnet20", "epochs": 3}')
    assert read_json_object(path, missing="absent", fix="fix") == {"model": "resnet20", "epochs": 3}

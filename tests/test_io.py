"""Atomic writes and JSON readers: what a crash leaves behind, and one-line errors that name the file."""

from __future__ import annotations

import errno
import json
import os
import stat

import numpy as np
import pytest

from freqprobe.errors import FreqprobeError
from freqprobe.io import (
    append_jsonl,
    atomic_path,
    atomic_save,
    atomic_write_json,
    read_json_object,
    read_jsonl,
)


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


# ------------------------------------------------------------------------------------------------ output sets


def _names(folder) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_output_set_replaces_its_own_files_only_and_writes_the_index_last(tmp_path):
    from freqprobe.io import output_set

    (tmp_path / "index.json").write_text("old index")
    (tmp_path / "a.png").write_text("old a")
    (tmp_path / "gone.png").write_text("old figure the new run does not draw")
    (tmp_path / "filters.json").write_text("another command's file")
    seen_at_publish = []
    with output_set(tmp_path, "index.json", owns=["*.png", "index.json"]) as staging:
        (staging / "a.png").write_text("new a")
        (staging / "b.png").write_text("new b")
        (staging / "index.json").write_text("new index")
        seen_at_publish.append(_names(tmp_path))
        assert seen_at_publish[0][0].startswith(".index.json.")  # the staging folder is hidden in the output folder
    assert _names(tmp_path) == ["a.png", "b.png", "filters.json", "index.json"]
    assert [(tmp_path / name).read_text() for name in _names(tmp_path)] == [
        "new a", "new b", "another command's file", "new index"
    ]


def test_output_set_failing_midway_keeps_the_previous_set(tmp_path):
    from freqprobe.io import atomic_write_text, output_set

    (tmp_path / "index.json").write_text("old index")
    (tmp_path / "a.png").write_text("old a")
    with pytest.raises(OSError, match="second file"):
        with output_set(tmp_path, "index.json", owns=["*.png"]) as staging:
            atomic_write_text(staging / "a.png", "new a")
            with atomic_path(staging / "b.png") as tmp:
                tmp.write_text("half of b")
                raise OSError("the second file failed")
    assert _names(tmp_path) == ["a.png", "index.json"]
    assert (tmp_path / "a.png").read_text() == "old a" and (tmp_path / "index.json").read_text() == "old index"


def test_stale_temporaries_go_and_a_live_writers_stay(tmp_path):
    """Defect 7: the temporaries of a killed save (no lock) are removed; one a live writer holds is not."""
    from freqprobe.io import prepare_output_dir, remove_stale_temporaries

    (tmp_path / ".checkpoint.pt.k2j4l_8x.tmp").write_bytes(b"half a checkpoint")  # left by an earlier version
    stale_folder = tmp_path / ".spectrum.json.abcd1234.tmp"
    stale_folder.mkdir()
    (stale_folder / "class_spectra.png").write_bytes(b"png")
    (tmp_path / "checkpoint.pt").write_bytes(b"good")
    (tmp_path / ".hidden.tmp").write_text("not a freqprobe temporary")
    with atomic_path(tmp_path / "model.safetensors") as live:
        live.write_bytes(b"being written")
        assert set(remove_stale_temporaries(tmp_path)) == {tmp_path / ".checkpoint.pt.k2j4l_8x.tmp", stale_folder}
        assert live.read_bytes() == b"being written"
        prepare_output_dir(tmp_path)
        assert live.exists()
    assert _names(tmp_path) == [".hidden.tmp", "checkpoint.pt", "model.safetensors"]
    assert (tmp_path / "model.safetensors").read_bytes() == b"being written"


@pytest.mark.parametrize(
    ("code", "reason", "fix"),
    [
        (errno.ENOSPC, "No space left on device (ENOSPC)", "free space on that disk"),
        (errno.EDQUOT, "Disk quota exceeded (EDQUOT)", "free space on that disk"),
        (errno.EROFS, "Read-only file system (EROFS)", "make the folder writable"),
    ],
)
def test_a_full_or_read_only_disk_is_one_line_and_the_old_file_stays(tmp_path, code, reason, fix):
    """Defect 6: the writer's OSError becomes one line naming the file, the error and the fix."""
    from freqprobe.errors import WriteError

    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"previous checkpoint")

    def disk_full(tmp):
        tmp.write_bytes(b"part of")
        raise OSError(code, os.strerror(code))

    with pytest.raises(WriteError) as caught:
        atomic_save(path, disk_full)
    message = str(caught.value)
    assert message.startswith(f"cannot write {path}: {reason}; {fix}") and "\n" not in message
    assert message.endswith("; files written earlier are unchanged")
    assert path.read_bytes() == b"previous checkpoint" and _names(tmp_path) == ["checkpoint.pt"]


def test_a_programming_error_is_not_dressed_as_a_disk_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic_save(tmp_path / "x", lambda tmp: open(tmp_path / "missing" / "y"))


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_every_writer_honours_the_umask(tmp_path, mask):
    """Defect 11: safetensors (weights, decoded cache) and torch.save outputs get 0o666 & ~umask, as JSON does."""
    import torch

    from freqprobe.data.cache import _write
    from freqprobe.models import save_weights
    from freqprobe.plots.style import new_figure, save_png

    previous = os.umask(mask)
    try:
        save_weights(torch.nn.Linear(2, 2), tmp_path / "model.safetensors")
        _write(tmp_path / "cache.safetensors", "key", {"images": torch.zeros(2, dtype=torch.uint8)}, {})
        atomic_save(tmp_path / "checkpoint.pt", lambda tmp: torch.save({"a": 1}, tmp))
        save_png(new_figure(1, 1), tmp_path / "figure.png")
        atomic_write_json(tmp_path / "metrics.json", {})
    finally:
        os.umask(previous)
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in tmp_path.iterdir()}
    assert modes == dict.fromkeys(
        ["model.safetensors", "cache.safetensors", "checkpoint.pt", "figure.png", "metrics.json"], 0o666 & ~mask
    )


def test_prepare_output_dir_refuses_a_file_and_a_path_under_a_file(tmp_path):
    from freqprobe.errors import WriteError
    from freqprobe.io import prepare_output_dir

    (tmp_path / "taken").write_text("keep")
    with pytest.raises(WriteError, match=f"^--out {tmp_path / 'taken'} is an existing file; give a folder path$"):
        prepare_output_dir(tmp_path / "taken")
    with pytest.raises(WriteError, match=f"^--where {tmp_path / 'taken' / 'a' / 'b'} lies under the file "):
        prepare_output_dir(tmp_path / "taken" / "a" / "b", "--where")
    assert prepare_output_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert _names(tmp_path) == ["taken"]  # checked, not created


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a 0o555 folder; see the EROFS simulation in tests/spectra")
def test_prepare_output_dir_refuses_a_read_only_folder(tmp_path):
    from freqprobe.errors import WriteError
    from freqprobe.io import prepare_output_dir

    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    with pytest.raises(WriteError, match="is not writable"):
        prepare_output_dir(folder / "out")

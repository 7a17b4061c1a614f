"""Data-parallel training: two CPU processes under torchrun (gloo) write one run folder and agree on the weights."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import torch
from diverging import diverging_train_options

from freqprobe.io import read_jsonl
from freqprobe.models import create_model, load_weights
from freqprobe.train import is_run_complete
from freqprobe.train.checkpoint import load_checkpoint
from freqprobe.train.final_metrics import weights_digest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_torchrun_two_processes_train_one_run(shared_data, tmp_path):
    out = tmp_path / "ddp"
    argv = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={free_port()}",
        "-m", "freqprobe", "train", "--dataset", "fashion-mnist", "--data-dir", str(shared_data),
        "--subset", "256", "--batch-size", "64", "--epochs", "1", "--limit-eval", "200", "--out", str(out),
        "--no-progress",
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    assert is_run_complete(out)
    # rank 0 alone reports and writes
    assert done.stdout.count("test accuracy") == 1 and done.stderr.count("done: test accuracy") == 1
    metrics = json.loads((out / "metrics.json").read_text())
    config = json.loads((out / "config.json").read_text())
    assert metrics["world_size"] == 2 and config["world_size"] == 2
    assert config["batch_size_per_rank"] == 32 and config["steps_per_epoch"] == 4
    digests = metrics["rank_weights_sha256"]
    assert len(digests) == 2 and digests[0] == digests[1]  # gradients were all-reduced: same weights everywhere
    model = load_weights(create_model("resnet20", in_channels=1), out / "model.safetensors")
    assert weights_digest(model) == digests[0]
    (epoch,) = read_jsonl(out / "metrics.jsonl")
    # both ranks' images are counted: 4 steps x 2 ranks x 32 images
    assert round(epoch["images_per_second"] * epoch["step_seconds"]) == 256
    assert metrics["val_images"] == 200 and 0.0 <= metrics["test_accuracy"] <= 1.0


def test_ranks_take_disjoint_equal_shares_of_the_permutation():
    import torch

    from freqprobe.train.epoch import rank_share

    permutation = torch.randperm(103, generator=torch.Generator().manual_seed(0))
    shares = [rank_share(permutation, rank, 4) for rank in range(4)]
    assert {len(share) for share in shares} == {25}
    together = torch.cat(shares)
    assert len(together.unique()) == 100 and set(together.tolist()) == set(permutation[:100].tolist())
    assert torch.equal(rank_share(permutation, 0, 1), permutation)


def test_processes_flag_launches_the_ranks_itself(shared_data, tmp_path):
    out = tmp_path / "launched"
    argv = [
        sys.executable, "-m", "freqprobe", "train", "--dataset", "fashion-mnist", "--data-dir", str(shared_data),
        "--subset", "256", "--batch-size", "64", "--epochs", "1", "--limit-eval", "200", "--out", str(out),
        "--no-progress", "--processes", "2",
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("test accuracy") == 1
    metrics = json.loads((out / "metrics.json").read_text())
    config = json.loads((out / "config.json").read_text())
    assert metrics["world_size"] == 2 and config["batch_size_per_rank"] == 32
    digests = metrics["rank_weights_sha256"]
    assert len(digests) == 2 and digests[0] == digests[1]
    assert "--processes" not in json.dumps(config)  # a launch option, not part of the recipe


def test_processes_flag_with_bad_input_reports_one_line(shared_data, tmp_path):
    argv = [
        sys.executable, "-m", "freqprobe", "train", "--dataset", "fashion-mnist", "--data-dir", str(tmp_path / "none"),
        "--epochs", "1", "--out", str(tmp_path / "run"), "--no-progress", "--processes", "2",
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("freqprobe: ")]
    assert len(errors) == 1 and "fashion-mnist not found" in errors[0], done.stderr
    assert "Traceback" not in done.stderr


def test_processes_values_and_the_relaunched_command_line():
    import pytest

    from freqprobe.errors import ConfigError
    from freqprobe.train.launch import processes_value, rank_environment, remove_option

    assert processes_value("3") == 3 and processes_value("auto") >= 1
    for bad in ("0", "-1", "two"):
        with pytest.raises(ConfigError, match="--processes"):
            processes_value(bad)
    argv = ["train", "--processes", "2", "--out", "r", "--processes=auto", "--epochs", "1"]
    assert remove_option(argv, "--processes") == ["train", "--out", "r", "--epochs", "1"]
    environment = rank_environment(1, 2, 29500)
    assert (environment["RANK"], environment["WORLD_SIZE"], environment["MASTER_ADDR"]) == ("1", "2", "127.0.0.1")


IGNORES_SIGINT = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
IGNORES_BOTH = IGNORES_SIGINT.replace("signal.SIG_IGN);", "signal.SIG_IGN); signal.signal(signal.SIGTERM, signal.SIG_IGN);")


def started(code: str, **kwargs) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, **kwargs)
    assert child.stdout.readline().strip() == "ready"  # its handlers are in place
    return child


def test_stop_terminates_ranks_that_ignore_the_interrupt_then_kills_the_rest():
    import signal
    import time

    from freqprobe.train.launch import _stop

    deaf, deafer = started(IGNORES_SIGINT), started(IGNORES_BOTH)
    begun = time.monotonic()
    _stop([deaf, deafer], interrupt_grace=0.3, terminate_grace=0.3)
    assert time.monotonic() - begun < 10
    assert deaf.returncode == -signal.SIGTERM and deafer.returncode == -signal.SIGKILL


def test_a_launched_rank_takes_sigint_even_when_started_with_it_ignored():
    import os
    import signal

    code = (
        "import signal, sys, time\n"
        "from freqprobe.train.launch import accept_interrupts_if_launched\n"
        "accept_interrupts_if_launched()\n"
        # ready only inside the try: an interrupt sent on "ready" always finds the handler in place
        "try:\n    print('ready', flush=True)\n    time.sleep(60)\nexcept KeyboardInterrupt:\n    sys.exit(130)\n"
    )

    def ignore_sigint():  # what a non-interactive shell does to a background job
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    for launched, expected in (("1", 130), ("", None)):
        child = started(code, env={**os.environ, "FREQPROBE_LAUNCHED": launched}, preexec_fn=ignore_sigint)
        child.send_signal(signal.SIGINT)
        try:
            code_seen = child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code_seen = None  # still running: it ignored the interrupt
            child.kill()
            child.wait()
        assert code_seen == expected


def test_two_processes_stop_together_on_a_nan_loss_and_keep_the_checkpoint(shared_data, tmp_path):
    out = tmp_path / "diverged"
    argv = [sys.executable, "-m", "freqprobe", *diverging_train_options(shared_data, out), "--processes", "2"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 2, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("freqprobe: ")]
    assert len(errors) == 1 and errors[0].startswith("freqprobe: error: training diverged: "), done.stderr
    assert "at epoch 2, step" in errors[0] and "(epoch 1) is kept" in errors[0]
    assert "Traceback" not in done.stderr
    kept = load_checkpoint(out / "checkpoint.pt")
    assert kept.epoch == 1 and all(torch.isfinite(t).all() for t in kept.model.values() if t.is_floating_point())

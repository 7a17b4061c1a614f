"""End-to-end training on small real Fashion-MNIST subsets: run folder, accuracy, resume, kill -9, divergence."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from diverging import diverging_train_options
from safetensors.torch import load_file

from freqprobe.cli import main
from freqprobe.errors import ConfigError, TrainingDiverged
from freqprobe.filters import build_filter
from freqprobe.io import append_jsonl, read_jsonl
from freqprobe.models import create_model, load_weights
from freqprobe.train import config_from_dict, is_run_complete, run_training
from freqprobe.train.checkpoint import load_checkpoint
from freqprobe.train.final_metrics import weights_digest

RUN_FILES = {"config.json", "metrics.jsonl", "metrics.json", "model.safetensors", "checkpoint.pt", "env.json"}
TIMING_KEYS = {"train_seconds", "images_per_second", "seconds", "step_seconds"}
REPO = Path(__file__).resolve().parents[2]


def without_timings(record: dict) -> dict:
    return {key: value for key, value in record.items() if key not in TIMING_KEYS}


def tiny_settings(shared_data: Path) -> dict:
    """3 epochs of 4 steps on 256 images: small enough for resume tests, long enough to kill in between."""
    return {
        "dataset": "fashion-mnist",
        "data_dir": str(shared_data),
        "epochs": 3,
        "subset": 256,
        "batch_size": 64,
        "limit_eval": 200,
        "lr": 0.05,
        "label_smoothing": 0.1,
        "seed": 3,
    }


@pytest.fixture(scope="module")
def reference(shared_data, tmp_path_factory):
    """An uninterrupted tiny run: what every interrupted run must reproduce exactly."""
    out = tmp_path_factory.mktemp("reference") / "run"
    metrics = run_training(config_from_dict(tiny_settings(shared_data)), out, progress=False)
    return out, metrics


@pytest.fixture(scope="module")
def cli_run(shared_data, tmp_path_factory):
    """A short real run through the CLI: 2 epochs on 2000 images seen through blur:1."""
    out = tmp_path_factory.mktemp("cli") / "run"
    argv = [
        "train", "--dataset", "fashion-mnist", "--data-dir", str(shared_data), "--filter", "blur:1",
        "--epochs", "2", "--subset", "2000", "--limit-eval", "500", "--batch-size", "64", "--lr", "0.1", "--crop-padding", "2",
        "--seed", "1", "--out", str(out), "--no-progress",
    ]  # fmt: skip
    assert main(argv) == 0
    return out


def test_cli_run_writes_the_run_folder(cli_run):
    assert RUN_FILES <= {path.name for path in cli_run.iterdir()}
    config = json.loads((cli_run / "config.json").read_text())
    assert config["config"]["filter"] == "blur:1" and config["config"]["subset"] == 2000
    assert config["filter_position"].startswith("before augmentation")
    assert config["fast_paths"]["device"] == "cpu" and config["fast_paths"]["threads"] >= 1
    assert config["data"]["train_images"] == 2000 and config["data"]["image_shape"] == [1, 28, 28]
    epochs = read_jsonl(cli_run / "metrics.jsonl")
    assert [record["epoch"] for record in epochs] == [1, 2]
    assert {"train_loss", "train_accuracy", "val_accuracy", "lr", "images_per_second"} <= set(epochs[0])
    metrics = json.loads((cli_run / "metrics.json").read_text())
    for key in ("test_accuracy", "val_accuracy", "epochs", "train_seconds", "images_per_second", "params",
                "device", "precision"):  # fmt: skip
        assert key in metrics
    assert metrics["epochs"] == 2 and metrics["test_images"] == 500 and metrics["val_images"] == 500
    assert metrics["val_accuracy"] == epochs[-1]["val_accuracy"]
    assert metrics["params"] == sum(p.numel() for p in create_model("resnet20", in_channels=1).parameters())
    env = json.loads((cli_run / "env.json").read_text())
    assert env["torch"] == torch.__version__ and env["freqprobe_version"] and env["date"]
    assert is_run_complete(cli_run)


def test_short_run_learns_well_above_chance(cli_run):
    metrics = json.loads((cli_run / "metrics.json").read_text())
    # 10 balanced classes: chance is 0.1; 2 epochs on 2000 images reach ~0.7
    assert metrics["test_accuracy"] > 0.5 and metrics["val_accuracy"] > 0.5
    epochs = read_jsonl(cli_run / "metrics.jsonl")
    assert epochs[1]["train_loss"] < epochs[0]["train_loss"]


def test_saved_weights_are_the_final_model_with_the_filtered_normalization(cli_run, shared_data):
    metrics = json.loads((cli_run / "metrics.json").read_text())
    model = load_weights(create_model("resnet20", in_channels=1), cli_run / "model.safetensors")
    assert weights_digest(model) == metrics["weights_sha256"]
    # the normalization is the filtered training subset's mean/std, not the raw images'
    from freqprobe.data import load_splits
    from freqprobe.train.prepare import stratified_first

    train = load_splits("fashion-mnist", root=shared_data).train
    images = train.images[stratified_first(train.labels, 2000)].double() / 255
    blurred = build_filter("blur:1")(images)
    assert model.normalize.mean.item() == pytest.approx(blurred.mean().item(), rel=1e-5)
    assert model.normalize.std.item() == pytest.approx(blurred.std(unbiased=False).item(), rel=1e-5)
    assert model.normalize.std.item() < images.std().item()  # blurring lowers the contrast
    checkpoint = load_checkpoint(cli_run / "checkpoint.pt")
    assert checkpoint.epoch == 2 and set(checkpoint.model) == set(load_file(cli_run / "model.safetensors"))


def test_a_complete_run_is_not_overwritten_without_force(cli_run, capsys):
    before = (cli_run / "metrics.json").read_bytes()
    assert main(["train", "--dataset", "fashion-mnist", "--epochs", "1", "--out", str(cli_run)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("freqprobe: error: ") and "already holds a complete run; pass --force" in err
    assert (cli_run / "metrics.json").read_bytes() == before


def test_resume_after_a_clean_stop_matches_the_uninterrupted_run(reference, shared_data, tmp_path, capsys):
    reference_dir, reference_metrics = reference
    config = config_from_dict(tiny_settings(shared_data))
    out = tmp_path / "run"
    assert run_training(config, out, progress=False, stop_after=1) == {"complete": False, "epochs_done": 1}
    assert not is_run_complete(out) and load_checkpoint(out / "checkpoint.pt").epoch == 1
    # an unfinished folder needs --resume
    assert main(["train", "--dataset", "fashion-mnist", "--epochs", "3", "--out", str(out)]) == 2
    assert f"pass --resume {out} to continue it" in capsys.readouterr().err
    # resuming with other settings would not reproduce the run
    with pytest.raises(ConfigError, match=f"run folder {out} holds an unfinished run trained with epochs=3, but this"):
        run_training(config.replace(epochs=4), out, resume=True, progress=False)
    # a stale line past the checkpoint (as left by a kill between log and checkpoint) must be dropped
    append_jsonl(out / "metrics.jsonl", {"epoch": 2, "train_loss": -1.0})
    metrics = run_training(config, out, resume=True, progress=False)
    assert without_timings(metrics) == without_timings(reference_metrics)
    assert metrics["weights_sha256"] == reference_metrics["weights_sha256"]
    resumed_log = [without_timings(r) for r in read_jsonl(out / "metrics.jsonl")]
    assert resumed_log == [without_timings(r) for r in read_jsonl(reference_dir / "metrics.jsonl")]
    # --force starts over in the same folder
    assert run_training(config, out, force=True, progress=False, stop_after=1)["epochs_done"] == 1
    assert not is_run_complete(out) and len(read_jsonl(out / "metrics.jsonl")) == 1


def test_a_resume_refused_for_an_edited_config_says_what_changed_and_force_starts_over(shared_data, tmp_path, capsys):
    """Defect 10: the advice must not be the --resume that just failed."""
    out = tmp_path / "run"
    config = config_from_dict(tiny_settings(shared_data))
    assert run_training(config, out, progress=False, stop_after=1)["epochs_done"] == 1
    saved = json.loads((out / "config.json").read_text())
    saved["config"]["lr"] = 0.2
    (out / "config.json").write_text(json.dumps(saved))
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert error == (
        f"freqprobe: error: run folder {out} holds an unfinished run trained with lr=0.05, but this command asks for "
        f"lr=0.2 (from --lr or from {out / 'config.json'}); to continue it, drop --lr and set \"lr\": 0.05 back in "
        f"{out / 'config.json'}; to start over with lr=0.2, add --force; or train into another --out\n"
    )
    assert load_checkpoint(out / "checkpoint.pt").epoch == 1  # refused before anything changed
    assert main(["train", "--resume", str(out), "--force", "--stop-after", "1", "--no-progress"]) == 0
    assert load_checkpoint(out / "checkpoint.pt").config["lr"] == 0.2
    assert [record["epoch"] for record in read_jsonl(out / "metrics.jsonl")] == [1]


def test_a_full_disk_at_a_checkpoint_is_one_line_and_keeps_the_previous_checkpoint(reference, shared_data, tmp_path,
                                                                                  monkeypatch, capsys):
    """Defect 6 (engine and CLI) and defect 7 (stale temporaries are removed when the run resumes)."""
    import errno

    from freqprobe.errors import WriteError

    _, reference_metrics = reference
    out = tmp_path / "run"
    config = config_from_dict(tiny_settings(shared_data))
    assert run_training(config, out, progress=False, stop_after=1)["epochs_done"] == 1
    kept = (out / "checkpoint.pt").read_bytes()
    real_write_bytes = Path.write_bytes

    def disk_full_for_checkpoints(path, data):
        if path.name == "checkpoint.pt":  # the temporary inside its hidden staging folder
            real_write_bytes(path, bytes(data)[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write_bytes(path, data)

    with monkeypatch.context() as patch:
        patch.setattr(Path, "write_bytes", disk_full_for_checkpoints)
        with pytest.raises(WriteError, match=f"^cannot write {out / 'checkpoint.pt'}: No space left on device"):
            run_training(config, out, resume=True, progress=False)
        assert main(["train", "--resume", str(out), "--no-progress"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error[-1] == (
        f"freqprobe: error: cannot write {out / 'checkpoint.pt'}: No space left on device (ENOSPC); free space on "
        f"that disk (or write to another folder) and run the command again; files written earlier are unchanged"
    )
    assert not [line for line in error if "Traceback" in line]
    assert (out / "checkpoint.pt").read_bytes() == kept and load_checkpoint(out / "checkpoint.pt").epoch == 1
    # what a save killed midway leaves (old and new naming): removed by the resume, the run ends as if never cut
    (out / ".checkpoint.pt.x1y2z3w4.tmp").write_bytes(b"half a checkpoint")
    (out / ".model.safetensors.abcd_123.tmp").mkdir()
    assert main(["train", "--resume", str(out), "--no-progress"]) == 0
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
    metrics = json.loads((out / "metrics.json").read_text())
    assert without_timings(metrics) == without_timings(reference_metrics)


def test_resume_after_kill_9_matches_the_uninterrupted_run(reference, shared_data, tmp_path):
    _, reference_metrics = reference
    settings = tiny_settings(shared_data)
    out = tmp_path / "killed"
    # The kill comes at a fixed point, right after the first checkpoint lands, not after a wait: a slow or loaded
    # machine can neither finish the run first nor be killed before the checkpoint exists.
    dies_after_first_checkpoint = (
        "import os, signal, sys\n"
        "import freqprobe.train.run_writer as run_writer\n"
        "save = run_writer.save_checkpoint\n"
        "def save_then_die(*args, **kwargs):\n"
        "    save(*args, **kwargs)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "run_writer.save_checkpoint = save_then_die\n"
        "from freqprobe.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    argv = [sys.executable, "-c", dies_after_first_checkpoint, "train", "--out", str(out), "--no-progress"]
    for key, value in settings.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    killed = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO, timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-3000:]
    assert load_checkpoint(out / "checkpoint.pt").epoch == 1 and not is_run_complete(out)
    assert main(["train", "--resume", str(out), "--no-progress"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert without_timings(metrics) == without_timings(reference_metrics)
    assert [r["epoch"] for r in read_jsonl(out / "metrics.jsonl")] == [1, 2, 3]


def test_a_nan_loss_stops_with_the_epoch_step_and_kept_checkpoint(shared_data, tmp_path, capsys):
    out = tmp_path / "diverged"
    assert main(diverging_train_options(shared_data, out)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("freqprobe: error:")]
    assert errors == err[-1:] and err[-1].startswith("freqprobe: error: training diverged: loss ")
    assert "at epoch 2, step " in err[-1] and f"checkpoint {out / 'checkpoint.pt'} (epoch 1) is kept" in err[-1]
    kept = load_checkpoint(out / "checkpoint.pt")
    assert kept.epoch == 1 and all(torch.isfinite(t).all() for t in kept.model.values() if t.is_floating_point())
    assert not is_run_complete(out)
    with pytest.raises(TrainingDiverged, match="epoch 2"):
        run_training(config_from_dict(kept.config), out, resume=True, progress=False)


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--model", "resnet7", "unknown model 'resnet7'; valid: allcnn_c, convnext_atto, densenet_bc_100"),
        ("--filter", "sharpen:2", "unknown filter 'sharpen'"),
        ("--dataset", "mnist", "unknown dataset 'mnist'"),
    ],
)
def test_unknown_names_fail_before_writing_anything(flag, value, message, shared_data, tmp_path, capsys):
    argv = ["train", "--dataset", "fashion-mnist", "--data-dir", str(shared_data), "--out", str(tmp_path / "r")]
    assert main([*argv, flag, value]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "r").exists()


def test_cutout_and_shift_tta_train_and_the_test_accuracy_is_the_mean_over_the_views(shared_data, tmp_path):
    from freqprobe.data import load_splits
    from freqprobe.train.evaluate import tta_views
    from freqprobe.train.prepare import _take_first

    settings = {**tiny_settings(shared_data), "epochs": 2, "subset": 1000, "lr": 0.1, "cutout": 10, "tta_flip": True,
                "tta_translate": 2, "precision": "fp32", "channels_last": False}  # fmt: skip
    metrics = run_training(config_from_dict(settings), tmp_path / "run", progress=False)
    assert metrics["tta_translate"] == 2 and metrics["tta_flip"] is True
    assert metrics["test_accuracy"] > 0.3  # chance is 0.1
    # the reported test accuracy is the saved model's, averaged over the 6 views, recomputed here independently
    model = load_weights(create_model("resnet20", in_channels=1), tmp_path / "run" / "model.safetensors").eval()
    test = _take_first(load_splits("fashion-mnist", root=shared_data).test, 200)
    images = test.images.float() / 255
    with torch.no_grad():
        logits = torch.stack([model(view) for view in tta_views(images, True, 2)]).mean(0)
    accuracy = (logits.argmax(1) == test.labels).double().mean().item()
    assert metrics["test_accuracy"] == pytest.approx(accuracy, abs=1.5 / 200)  # at most one borderline image


def test_a_short_run_on_the_device_reports_the_accuracy_of_the_weights_it_saved(shared_data, tmp_path, device):
    from freqprobe.data import load_splits
    from freqprobe.train.prepare import _take_first

    # precision stays "auto": bf16 autocast (or fp16 with a GradScaler) on a GPU, whatever this CPU does best here
    settings = {**tiny_settings(shared_data), "epochs": 1, "subset": 64, "limit_eval": 64, "device": device.type}
    metrics = run_training(config_from_dict(settings), tmp_path / "run", progress=False)
    assert metrics["device"].split(":")[0] == device.type and metrics["epochs"] == 1
    # the test accuracy measured on the device is the saved model's, recomputed here in float32 on the CPU
    model = load_weights(create_model("resnet20", in_channels=1), tmp_path / "run" / "model.safetensors").eval()
    test = _take_first(load_splits("fashion-mnist", root=shared_data).test, 64)
    with torch.no_grad():
        accuracy = (model(test.images.float() / 255).argmax(1) == test.labels).double().mean().item()
    borderline = 0 if metrics["precision"] == "fp32" else 3  # images whose top two logits reduced precision swaps
    assert metrics["test_images"] == 64
    assert metrics["test_accuracy"] == pytest.approx(accuracy, abs=(borderline + 0.5) / 64)


def test_a_cutout_larger_than_the_images_fails_in_one_line_before_training(shared_data, tmp_path, capsys):
    argv = ["train", "--dataset", "fashion-mnist", "--data-dir", str(shared_data), "--subset", "256",
            "--limit-eval", "100", "--out", str(tmp_path / "r"), "--no-progress"]  # fmt: skip
    assert main([*argv, "--cutout", "29"]) == 2
    err = capsys.readouterr().err.strip().splitlines()  # the start-up lines, then the error
    errors = [line for line in err if line.startswith("freqprobe: error:")]
    assert errors == [err[-1]] and "cutout=29 is larger than the 28x28 images; use at most 28" in err[-1]
    assert not (tmp_path / "r" / "metrics.jsonl").exists() and not (tmp_path / "r" / "config.json").exists()
    assert main([*argv, "--tta-translate", "28"]) == 2
    assert "tta_translate=28 shifts the 28x28 images out of view" in capsys.readouterr().err


def test_subset_is_stratified_and_ordered():
    from freqprobe.train.prepare import stratified_first

    labels = torch.tensor([0, 0, 0, 0, 1, 2, 1, 2, 0, 1])
    chosen = stratified_first(labels, 6)
    assert chosen.tolist() == [0, 1, 4, 5, 6, 7]
    assert np.bincount(labels[chosen].numpy()).tolist() == [2, 2, 2]


def test_a_fitted_filter_is_kept_beside_the_weights_so_analyses_need_no_checkpoint(shared_data, tmp_path):
    from freqprobe.runs import RunFolder
    from freqprobe.train.prepare import fit_input_filter

    config = config_from_dict({**tiny_settings(shared_data), "filter": "whiten", "epochs": 1})
    out = tmp_path / "run"
    run_training(config, out, progress=False)
    (out / "checkpoint.pt").unlink()  # what a committed run folder looks like
    loaded = RunFolder(out).load_input_filter()
    torch.testing.assert_close(loaded.mean_amplitude, fit_input_filter(config).mean_amplitude, rtol=0, atol=0)


def test_a_run_with_fp32_depthwise_convolutions_saves_plain_weights(shared_data, tmp_path):
    settings = {**tiny_settings(shared_data), "epochs": 1, "model": "shufflenet_v2", "width_multiplier": 0.5,
                "precision": "bf16", "depthwise_fp32": "true"}  # fmt: skip
    metrics = run_training(config_from_dict(settings), tmp_path / "run", progress=False)
    assert metrics["depthwise_fp32"] is True and metrics["precision"] == "bf16"
    model = create_model("shufflenet_v2", in_channels=1, width_multiplier=0.5)
    load_weights(model, tmp_path / "run" / "model.safetensors")  # the same keys as a model never swapped
    assert all(type(module).__name__ != "Fp32DepthwiseConv2d" for module in model.modules())

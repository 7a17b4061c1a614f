"""Fast-path choices: resolved for this machine, reported with reasons, explicit requests respected."""

from __future__ import annotations

import pytest
import torch

from freqprobe.errors import ConfigError
from freqprobe.train import config_from_dict
from freqprobe.train.fastpaths import available_cores, choose_fast_paths, cpu_has_native_bf16


def choose(**values):
    return choose_fast_paths(config_from_dict({"dataset": "cifar10", "device": "cpu", **values}))


def test_auto_on_cpu_uses_bf16_only_with_native_support_and_channels_last():
    paths = choose()
    assert paths.device == "cpu" and paths.channels_last is True and paths.compile is False
    assert paths.precision == ("bf16" if cpu_has_native_bf16() else "fp32")
    assert paths.threads == available_cores() and not paths.data_on_device and not paths.grad_scaler
    assert any(reason.startswith("precision:") for reason in paths.reasons)
    assert "threads" in paths.describe()


def test_requests_override_auto():
    paths = choose(precision="fp32", channels_last=False, compile=True)
    assert (paths.precision, paths.channels_last, paths.compile) == ("fp32", False, True)
    assert paths.autocast().__class__.__name__ == "nullcontext"
    assert isinstance(choose(precision="bf16").autocast(), torch.autocast)


def test_threads_are_shared_between_local_processes():
    config = config_from_dict({"dataset": "cifar10", "device": "cpu"})
    assert choose_fast_paths(config, local_rank=1, local_world_size=available_cores() * 2).threads == 1


def test_impossible_requests_fail_with_one_line():
    with pytest.raises(ConfigError, match="precision fp16 is for CUDA only"):
        choose(precision="fp16")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="device 'cuda' requested but CUDA is not available"):
            choose(device="cuda")


@pytest.mark.skipif(not cpu_has_native_bf16(), reason="the per-model table applies where bf16 is native")
def test_auto_takes_the_measured_choice_of_a_model_that_bf16_does_not_speed_up():
    from freqprobe.train.fastpaths import CPU_CHOICES_BY_MODEL

    assert CPU_CHOICES_BY_MODEL["shufflenet_v2"][:2] == ("fp32", False)
    paths = choose(model="shufflenet_v2")
    assert (paths.precision, paths.channels_last) == ("fp32", False)
    assert any("measured fastest for shufflenet_v2" in reason for reason in paths.reasons)
    assert (choose(model="resnet20").precision, choose(model="resnet20").channels_last) == ("bf16", True)
    forced = choose(model="shufflenet_v2", precision="bf16", channels_last=True)
    assert (forced.precision, forced.channels_last) == ("bf16", True)


def test_without_native_bf16_every_model_gets_fp32(monkeypatch):
    from freqprobe.train import fastpaths

    monkeypatch.setattr(fastpaths, "cpu_has_native_bf16", lambda: False)
    for model in ("shufflenet_v2", "resnet20"):
        assert choose(model=model).precision == "fp32"

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
def test_auto_takes_the_measured_choice_of_a_model_that_prefers_other_settings():
    from freqprobe.train.fastpaths import CPU_CHOICES_BY_MODEL

    assert CPU_CHOICES_BY_MODEL["shufflenet_v2"][:3] == ("bf16", False, True)
    paths = choose(model="shufflenet_v2")
    assert (paths.precision, paths.channels_last, paths.depthwise_fp32) == ("bf16", False, True)
    assert any("measured fastest for shufflenet_v2" in reason for reason in paths.reasons)
    assert "depthwise convolutions fp32" in paths.describe()
    resnet = choose(model="resnet20")
    assert (resnet.precision, resnet.channels_last, resnet.depthwise_fp32) == ("bf16", True, False)
    forced = choose(model="shufflenet_v2", precision="bf16", channels_last=True, depthwise_fp32=False)
    assert (forced.precision, forced.channels_last, forced.depthwise_fp32) == ("bf16", True, False)


def test_depthwise_fp32_is_moot_in_fp32_and_follows_a_request_under_autocast():
    assert choose(model="shufflenet_v2", precision="fp32", depthwise_fp32=True).depthwise_fp32 is False
    assert choose(model="resnet20", precision="bf16", depthwise_fp32="true").depthwise_fp32 is True
    with pytest.raises(ConfigError, match="depthwise_fp32"):
        choose(depthwise_fp32="sometimes")


def test_depthwise_convolutions_run_in_fp32_under_autocast_with_unchanged_weights_and_keys():
    from torch import nn

    from freqprobe.train.fastpaths import Fp32DepthwiseConv2d, keep_depthwise_in_fp32

    torch.manual_seed(0)
    depthwise, grouped, dense = nn.Conv2d(4, 4, 3, groups=4), nn.Conv2d(4, 4, 3, groups=2), nn.Conv2d(4, 8, 1)
    model = nn.Sequential(depthwise, grouped, dense)
    keys = list(model.state_dict())
    assert keep_depthwise_in_fp32(model) == 1
    assert type(depthwise) is Fp32DepthwiseConv2d and type(grouped) is nn.Conv2d and type(dense) is nn.Conv2d
    assert list(model.state_dict()) == keys
    torch.manual_seed(0)
    x = torch.rand(2, 4, 8, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = depthwise(x.bfloat16())
        assert out.dtype == torch.float32
        assert model(x).dtype == torch.bfloat16  # the dense layers still run in bf16
    torch.testing.assert_close(out, nn.functional.conv2d(x.bfloat16().float(), depthwise.weight, depthwise.bias, groups=4))


def test_without_native_bf16_every_model_gets_fp32(monkeypatch):
    from freqprobe.train import fastpaths

    monkeypatch.setattr(fastpaths, "cpu_has_native_bf16", lambda: False)
    for model in ("shufflenet_v2", "resnet20"):
        assert choose(model=model).precision == "fp32"

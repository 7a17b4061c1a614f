"""``scripts/efficientnet_lite0_weights.py``: another port's EfficientNet-Lite0 checkpoint becomes a pixel-space
timm model whose normalization maps [0, 1] to [-1, 1]."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "efficientnet_lite0_weights.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("efficientnet_lite0_weights", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_port_checkpoint_loads_in_order_and_reads_pixels_in_unit_range(script, tmp_path):
    import timm

    torch.manual_seed(0)
    reference = timm.create_model("tf_efficientnet_lite0", pretrained=False).eval()
    port = {f"_blocks.{index}._port.{key.rsplit('.', 1)[-1]}": tensor  # another port's names, same last parts
            for index, (key, tensor) in enumerate(reference.state_dict().items())}
    torch.save(port, tmp_path / "port.pth")
    model = script.pretrained_model(tmp_path / "port.pth")
    images = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(model(images), reference((images - 0.5) / 0.5), atol=1e-5)
    assert model.normalize.mean.tolist() == [0.5, 0.5, 0.5] and model.normalize.std.tolist() == [0.5, 0.5, 0.5]


def test_a_checkpoint_of_another_network_is_refused(script, tmp_path):
    from freqprobe.models import WeightsError

    torch.save({"_conv_stem.weight": torch.zeros(32, 3, 3, 3)}, tmp_path / "other.pth")
    with pytest.raises(WeightsError, match="holds 1 tensors where the model has"):
        script.pretrained_model(tmp_path / "other.pth")

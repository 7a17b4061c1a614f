"""The library architectures registered for small images: built from torchvision/timm, normalization first, forward
and backward at 1x28x28 and 3x32x32, the published sizes, width scaling, refused options, and FLOPs counting."""

from __future__ import annotations

import pytest
import torch
import torchvision
from timm.models.convnext import ConvNeXt
from torch import nn

from freqprobe.errors import ConfigError
from freqprobe.models import MODELS, Normalize, create_model
from freqprobe.models.cost import count_flops, model_cost_table
from freqprobe.models.dense_wide import WideResNet
from freqprobe.models.plain_nets import AllConvNet
from freqprobe.models.small_input import scaled_width

RESNETS = {"resnet20", "resnet32", "resnet56", "resnet18"}
# name -> (class of the network body, parameters in millions at 3 channels and 10 classes, the published size)
LIBRARY = {
    "vgg11_bn": (torchvision.models.VGG, 9.23),  # CIFAR VGG-11: conv stack of Simonyan & Zisserman + one linear
    "mobilenet_v2": (torchvision.models.MobileNetV2, 2.24),  # CIFAR ports of Sandler et al.: 2.2 M
    "shufflenet_v2": (torchvision.models.ShuffleNetV2, 1.26),  # ShuffleNetV2 1x, 10-way classifier
    "densenet_bc_100": (torchvision.models.DenseNet, 0.77),  # Huang et al. 2017, Table 2: 0.8 M
    "wrn16_4": (WideResNet, 2.75),  # Zagoruyko & Komodakis 2016, Table 1: 2.7 M
    "convnext_atto": (ConvNeXt, 3.38),  # timm convnext_atto (3.7 M with 1000 classes) with 10 classes
    "allcnn_c": (AllConvNet, 1.37),  # Springenberg et al. 2015: 1.3 M
}


def test_every_new_name_is_registered_beside_the_resnets():
    assert set(MODELS.names()) == RESNETS | set(LIBRARY)


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_built_from_the_library_class_with_normalization_first_and_the_published_size(name):
    body_class, millions = LIBRARY[name]
    model = create_model(name, in_channels=3, num_classes=10)
    first_name, first = next(iter(model.named_children()))
    assert first_name == "normalize" and isinstance(first, Normalize)
    assert isinstance(model.body, body_class)
    assert sum(p.numel() for p in model.parameters()) / 1e6 == pytest.approx(millions, abs=0.005)


@pytest.mark.parametrize("name", sorted(LIBRARY))
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_forward_and_backward_on_fashion_mnist_and_cifar_shapes(name, shape):
    torch.manual_seed(0)
    model = create_model(name, in_channels=shape[0], num_classes=10)
    model.set_normalization([0.5] * shape[0], [0.25] * shape[0])
    images = torch.rand(2, *shape)
    logits = model(images)
    assert logits.shape == (2, 10) and torch.isfinite(logits).all()
    nn.functional.cross_entropy(logits, torch.arange(2)).backward()
    missing = [key for key, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing
    # the stem reads the data's channels: no hidden channel replication
    first_conv = next(m for m in model.body.modules() if isinstance(m, nn.Conv2d))
    assert first_conv.in_channels == shape[0]


@pytest.mark.parametrize(
    "name,size,final",
    [("vgg11_bn", 32, 2), ("vgg11_bn", 28, 2), ("mobilenet_v2", 32, 4), ("mobilenet_v2", 28, 4),
     ("shufflenet_v2", 32, 4), ("densenet_bc_100", 32, 8), ("densenet_bc_100", 28, 7), ("wrn16_4", 32, 8),
     ("convnext_atto", 32, 2), ("convnext_atto", 28, 1), ("allcnn_c", 32, 6), ("allcnn_c", 28, 5)],
)
def test_small_image_stems_keep_the_cifar_resolution(name, size, final):
    """The side of the last conv's output: ImageNet stems would leave 1x1 (or nothing) after the first stages."""
    model = create_model(name, in_channels=1).eval()
    sides = []
    handles = [m.register_forward_hook(lambda _, __, out: sides.append(out.shape[-1]))
               for m in model.body.modules() if isinstance(m, nn.Conv2d)]
    model(torch.rand(1, 1, size, size))
    for handle in handles:
        handle.remove()
    assert sides[-1] == final if name != "allcnn_c" else sides[-2] == final  # All-CNN-C's last conv is the 1x1 head


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_width_multiplier_scales_the_channels(name):
    def stem_width(model):
        return next(m.out_channels for m in model.modules() if isinstance(m, nn.Conv2d))

    full = create_model(name, in_channels=3)
    half = create_model(name, in_channels=3, width_multiplier=0.5)
    params = [sum(p.numel() for p in m.parameters()) for m in (full, half)]
    assert params[1] < 0.4 * params[0]  # ~ a quarter: every conv loses half its inputs and half its outputs
    assert stem_width(half) <= 0.5 * stem_width(full) + 8


def test_resnets_scale_with_width_too_and_keep_their_architecture():
    model = create_model("resnet20", width_multiplier=2.0)
    assert [model.stem.out_channels, model.layer2[0].conv1.out_channels, model.layer3[0].conv1.out_channels] == [
        32, 64, 128]
    assert create_model("resnet18", width_multiplier=0.5).fc.in_features == 256


def test_scaled_width_rounds_to_the_divisor_and_never_far_below():
    for channels in (12, 16, 24, 96, 116, 320, 1024):
        for multiplier in (0.25, 0.5, 0.75, 1.0, 1.5, 2.0):
            width = scaled_width(channels, multiplier)
            assert width % 8 == 0 and width >= 8 and width >= 0.9 * channels * multiplier
            assert abs(width - channels * multiplier) <= 8


@pytest.mark.parametrize("value", [0, -1, 17, float("nan"), "2"])
def test_absurd_width_multipliers_are_refused_in_one_line(value):
    with pytest.raises(ConfigError, match="width_multiplier"):
        create_model("wrn16_4", width_multiplier=value)


@pytest.mark.parametrize("option,value", [("antialias", True), ("conv", nn.Conv2d), ("stem_conv", nn.Conv2d),
                                          ("zero_init_residual", True)])
def test_resnet_only_options_are_refused_naming_option_and_model(option, value):
    with pytest.raises(ConfigError, match=rf"^{option}.* not supported by model 'mobilenet_v2'"):
        create_model("mobilenet_v2", **{option: value})


def test_bad_sizes_are_refused_like_the_resnets():
    with pytest.raises(ConfigError, match="num_classes"):
        create_model("vgg11_bn", num_classes=1)
    with pytest.raises(ConfigError, match="in_channels"):
        create_model("convnext_atto", in_channels=0)


# --- FLOPs ----------------------------------------------------------------------------------------------------------


def conv_flops(c_in: int, c_out: int, kernel: int, side: int) -> int:
    """A multiply-add per tap, input channel, output channel and output pixel; 2 FLOPs each."""
    return 2 * c_in * c_out * kernel * kernel * side * side


def test_count_flops_of_resnet20_is_the_sum_over_its_convolutions_and_classifier():
    expected = (
        conv_flops(3, 16, 3, 32)
        + 6 * conv_flops(16, 16, 3, 32)
        + conv_flops(16, 32, 3, 16) + 5 * conv_flops(32, 32, 3, 16)
        + conv_flops(32, 64, 3, 8) + 5 * conv_flops(64, 64, 3, 8)
        + 2 * 64 * 10
    )
    assert count_flops(create_model("resnet20"), (3, 32, 32)) == expected  # 81.1 M: the 40.6 M MACs usually quoted


def test_count_flops_counts_grouped_convolutions_per_group():
    depthwise = nn.Conv2d(8, 8, 7, padding=3, groups=8, bias=False)
    assert count_flops(depthwise, (8, 16, 16)) == 2 * 8 * 49 * 16 * 16


def test_count_flops_leaves_the_model_as_it_was():
    model = create_model("densenet_bc_100", in_channels=1).train()
    before = {key: value.clone() for key, value in model.state_dict().items()}
    count_flops(model, (1, 28, 28))
    assert model.training
    assert all(torch.equal(before[key], value) for key, value in model.state_dict().items())


def test_count_flops_refuses_a_shape_that_is_not_c_h_w():
    with pytest.raises(ConfigError, match="input_shape"):
        count_flops(nn.Conv2d(1, 1, 3), (28, 28))


def test_the_model_table_lists_every_model_at_both_sizes():
    lines = model_cost_table()
    assert lines[0].startswith("| model | params at 3x32x32 | FLOPs per 3x32x32 image | params at 1x28x28")
    rows = {line.split("|")[1].strip(): line for line in lines[2:]}
    assert set(rows) == set(MODELS.names())
    assert "| 81.1 MFLOPs |" in rows["resnet20"]

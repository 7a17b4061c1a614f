"""Which layers ``freqprobe features`` measures by default and with ``--layers``."""

from __future__ import annotations

import torch
import torchvision

from freqprobe.analysis.features import default_sites, feature_spectra, select_sites, subsampling_sites
from freqprobe.models import create_model
from freqprobe.models.pixel_space import PixelSpaceModel


def test_freqprobe_resnet_default_sites_are_input_stem_convs_blocks_and_stages():
    model = create_model("resnet20", in_channels=1, antialias=True)
    kinds = {site.name: site.kind for site in default_sites(model)}
    assert kinds["normalize"] == "input" and kinds["stem"] == "conv" and kinds["stem_bn"] == "module"
    assert kinds["layer1"] == kinds["layer3"] == "stage"
    assert kinds["layer2.0"] == kinds["layer3.2"] == "block"
    assert kinds["layer2.0.conv1"] == "conv"
    assert sum(kind == "conv" for kind in kinds.values()) == 19  # stem + 18 block convs, option A shortcuts
    # with antialias the blur pools subsample; an option-A shortcut and the blur pool inside it count once
    names = [(name, pair) for name, _, pair in subsampling_sites(model)]
    assert names == [("layer2.0.blurpool", (2, 2)), ("layer2.0.shortcut", (2, 2)),
                     ("layer3.0.blurpool", (2, 2)), ("layer3.0.shortcut", (2, 2))]
    plain = [name for name, _, _ in subsampling_sites(create_model("resnet20", in_channels=1))]
    assert plain == ["layer2.0.conv1", "layer2.0.shortcut", "layer3.0.conv1", "layer3.0.shortcut"]


def test_globs_and_regexes_pick_layers_by_name():
    model = create_model("resnet20", in_channels=1)
    assert [site.name for site in select_sites(model, "layer1.*.conv1")] == [
        "layer1.0.conv1", "layer1.1.conv1", "layer1.2.conv1"
    ]
    assert [site.name for site in select_sites(model, r"re:^layer[23]$, stem")] == ["stem", "layer2", "layer3"]


def test_a_torchvision_network_in_a_pixel_space_wrapper_is_measured_by_its_body_names():
    model = PixelSpaceModel(torchvision.models.resnet18(num_classes=10), in_channels=3)
    sites = {site.name: site.kind for site in default_sites(model)}
    assert sites["body.layer1"] == "stage" and sites["body.layer2.0"] == "block" and sites["body.conv1"] == "conv"
    result = feature_spectra(model, torch.rand(2, 3, 64, 64), batch_size=2)
    names = [layer.name for layer in result.layers]
    assert names[0] == "normalize" and names.index("body.layer1") < names.index("body.layer4")
    assert "body.avgpool" in result.skipped and "body.fc" in result.skipped
    strided = [site.name for site in result.aliasing]
    assert strided[:2] == ["body.conv1", "body.maxpool"]

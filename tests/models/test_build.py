"""build_model for external networks: weights files in their real formats, pretrained weights from the local cache
(never downloaded), the channel adapters, the classifier and the recorded source."""

from __future__ import annotations

import pytest
import torch
import torchvision
from safetensors.torch import save_file
from torch import nn

from freqprobe.errors import ConfigError
from freqprobe.models import WeightsError
from freqprobe.models.build import build_model
from freqprobe.models.pixel_space import PixelSpaceModel, RepeatChannels

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


@pytest.fixture(scope="module")
def resnet18_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return torchvision.models.resnet18().state_dict()


@pytest.fixture(scope="module")
def resnet18_file(resnet18_state, tmp_path_factory):
    """A torchvision state dict as users have them: ``torch.save(model.state_dict(), "resnet18.pth")``."""
    path = tmp_path_factory.mktemp("weights") / "resnet18.pth"
    torch.save(resnet18_state, path)
    return path


def assert_body_holds(model: PixelSpaceModel, state: dict[str, torch.Tensor], skip: tuple[str, ...] = ()) -> None:
    body = model.body.state_dict()
    for key, value in state.items():
        if not key.startswith(skip):
            assert torch.equal(body[key], value), key


def test_a_torchvision_state_dict_loads_into_the_body_under_pixel_space_normalization(resnet18_file, resnet18_state):
    built = build_model("tv:resnet18", in_channels=3, num_classes=None, weights=resnet18_file)
    assert isinstance(built.model, PixelSpaceModel)
    assert list(dict(built.model.named_children())) == ["normalize", "adapter", "body"]
    assert_body_holds(built.model, resnet18_state)
    assert sorted(built.model.state_dict()) == sorted(["normalize.mean", "normalize.std"] + [f"body.{k}" for k in resnet18_state])
    assert built.record["classifier"] == "as built (1000 outputs)"
    assert built.record["weights"] == str(resnet18_file)


def test_safetensors_and_data_parallel_prefixed_files_load_the_same_weights(resnet18_state, tmp_path):
    save_file({key: value.contiguous() for key, value in resnet18_state.items()}, str(tmp_path / "r18.safetensors"))
    # nn.DataParallel(model).state_dict() keys carry "module."; a Lightning-style wrapper's "model."
    torch.save({f"module.{key}": value for key, value in resnet18_state.items()}, tmp_path / "r18_dp.pt")
    torch.save({"state_dict": {f"model.{k}": v for k, v in resnet18_state.items()}}, tmp_path / "r18_ckpt.pth")
    for name in ("r18.safetensors", "r18_dp.pt", "r18_ckpt.pth"):
        built = build_model("tv:resnet18", in_channels=3, num_classes=None, weights=tmp_path / name)
        assert_body_holds(built.model, resnet18_state)


def test_fine_tuning_re_makes_the_classifier_and_keeps_every_other_weight(resnet18_file, resnet18_state):
    built = build_model("tv:resnet18", in_channels=3, num_classes=10, weights=resnet18_file)
    assert built.model.body.fc.out_features == 10
    assert_body_holds(built.model, resnet18_state, skip=("fc.",))
    assert built.record["classifier"] == "fc re-initialized for 10 classes (the weights had 1000)"


def test_weights_of_another_network_name_missing_and_unexpected_keys_in_one_line(tmp_path):
    torch.save(torchvision.models.mobilenet_v2().state_dict(), tmp_path / "mnv2.pth")
    with pytest.raises(WeightsError) as error:
        build_model("tv:resnet18", weights=tmp_path / "mnv2.pth", num_classes=None)
    message = str(error.value)
    assert "\n" not in message and "mnv2.pth" in message
    assert "missing (conv1.weight" in message and "unexpected (features.0.0.weight" in message


def test_corrupt_and_foreign_weight_files_are_one_line(tmp_path):
    (tmp_path / "bad.pt").write_bytes(b"not a zip")
    (tmp_path / "bad.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}")
    (tmp_path / "w.npz").write_bytes(b"")
    for name, fragment in (("bad.pt", "weights_only=True"), ("bad.safetensors", "truncated"), ("w.npz", ".pth")):
        with pytest.raises(WeightsError, match=fragment) as error:
            build_model("tv:resnet18", weights=tmp_path / name)
        assert "\n" not in str(error.value)


def test_pretrained_offline_names_the_file_and_the_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    with pytest.raises(WeightsError) as error:
        build_model("tv:resnet18", weights="pretrained")
    message = str(error.value)
    assert "\n" not in message
    assert f"put resnet18-f37072fd.pth (from https://download.pytorch.org/models/resnet18-f37072fd.pth) into {tmp_path / 'hub' / 'checkpoints'}/" in message


def test_pretrained_from_the_cache_brings_its_imagenet_normalization(resnet18_state, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    torch.save(resnet18_state, tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth")  # the cache's file name
    built = build_model("tv:resnet18", in_channels=3, num_classes=10, weights="pretrained", mean=[0.5] * 3, std=[0.1] * 3)
    assert built.model.normalize.mean.tolist() == pytest.approx(IMAGENET_MEAN)
    assert built.model.normalize.std.tolist() == pytest.approx(IMAGENET_STD)
    assert_body_holds(built.model, resnet18_state, skip=("fc.",))
    assert built.record["weights_origin"] == "torchvision ResNet18_Weights.IMAGENET1K_V1 (resnet18-f37072fd.pth)"
    assert built.record["normalization"]["source"].startswith("pretrained weights' metadata")
    grey = build_model("tv:resnet18", in_channels=1, num_classes=10, weights="pretrained")
    assert grey.model.normalize.mean.tolist() == pytest.approx([sum(IMAGENET_MEAN) / 3])
    assert "averaged over its 3 channels" in grey.record["normalization"]["source"]


def test_pretrained_is_refused_for_registered_and_python_models(tmp_path):
    with pytest.raises(ConfigError, match="tv: and timm:"):
        build_model("resnet20", in_channels=1, weights="pretrained")


def test_repeat_and_sum_stem_give_the_same_logits_on_grey_images(resnet18_file, device):
    """conv(w, [x, x, x]) = conv(sum_c w_c, x): the two adapters are the same function of a grey image."""
    repeat = build_model("tv:resnet18", in_channels=1, num_classes=None, weights=resnet18_file).model.eval().to(device)
    summed = build_model(
        "tv:resnet18", in_channels=1, num_classes=None, weights=resnet18_file, channel_adapter="sum-stem"
    ).model.eval().to(device)
    assert isinstance(repeat.adapter, RepeatChannels) and isinstance(summed.adapter, nn.Identity)
    assert summed.body.conv1.weight.shape == (64, 1, 7, 7)
    images = torch.rand(2, 1, 64, 64, generator=torch.Generator().manual_seed(0)).to(device)
    with torch.no_grad():
        torch.testing.assert_close(summed(images), repeat(images), rtol=1e-4, atol=1e-4)


def test_data_with_channels_the_network_cannot_take_is_one_line():
    with pytest.raises(ConfigError, match="takes 3-channel images but the data has 2"):
        build_model("tv:resnet18", in_channels=2)


def test_small_input_makes_the_cifar_port_stem():
    built = build_model("tv:resnet18", in_channels=3, num_classes=10, small_input=True)
    body = built.model.body
    assert (body.conv1.kernel_size, body.conv1.stride, body.conv1.padding) == ((3, 3), (1, 1), (1, 1))
    assert isinstance(body.maxpool, nn.Identity)
    sizes = {}
    body.layer1.register_forward_pre_hook(lambda module, inputs: sizes.update(layer1=inputs[0].shape[-2:]))
    built.model.eval()(torch.rand(1, 3, 32, 32))
    assert tuple(sizes["layer1"]) == (32, 32)  # ImageNet stem: 8x8
    assert built.record["small_input"] == {
        "conv1": "7x7 stride 2 -> 3x3 stride 1 (re-initialized)", "maxpool": "max-pool removed",
    }  # fmt: skip


def test_small_input_keeps_a_3x3_stem_s_weights_and_refuses_a_patchify_stem():
    torch.manual_seed(0)
    plain = torchvision.models.mobilenet_v2(num_classes=10)
    built = build_model("tv:mobilenet_v2", in_channels=3, num_classes=10, small_input=True)
    assert built.model.body.features[0][0].stride == (1, 1)
    assert built.model.body.features[0][0].weight.shape == plain.features[0][0].weight.shape
    with pytest.raises(ConfigError) as error:
        build_model("tv:convnext_tiny", small_input=True)
    assert "'tv:convnext_tiny'" in str(error.value) and "4x4 stride 4" in str(error.value)


def test_unknown_library_names_list_close_matches():
    with pytest.raises(ConfigError, match=r"unknown torchvision classification model 'resnet19'.*close: tv:resnet18"):
        build_model("tv:resnet19")
    with pytest.raises(ConfigError, match=r"unknown timm model 'resnet19'.*close:"):
        build_model("timm:resnet19")


def test_a_timm_model_takes_model_args_and_the_registered_options_are_refused():
    built = build_model("timm:resnet18", in_channels=1, num_classes=7, model_args=["drop_rate=0.25"])
    assert built.model.body.drop_rate == 0.25 and built.record["model_args"] == ["drop_rate=0.25"]
    assert built.model(torch.rand(2, 1, 64, 64)).shape == (2, 7)
    with pytest.raises(ConfigError, match="--antialias applies to freqprobe's own ResNets"):
        build_model("timm:resnet18", antialias=True)
    with pytest.raises(ConfigError, match="could not be built with .*no_such_option"):
        build_model("tv:resnet18", model_args=["no_such_option=1"])


FACTORY = '''
from torch import nn


def build(width=4, num_classes=10, bias=False):
    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1, bias=bias), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(width, num_classes),
    )
'''


def test_a_python_file_factory_gets_the_model_args_and_the_class_count(tmp_path):
    (tmp_path / "mynet.py").write_text(FACTORY)
    built = build_model(f"py:{tmp_path}/mynet.py:build", in_channels=1, num_classes=3, model_args=["width=6", "bias=true"])
    body = built.model.body
    assert body[0].out_channels == 6 and body[0].bias is not None and body[4].out_features == 3
    assert built.record["file"] == f"{tmp_path}/mynet.py" and len(built.record["file_sha256"]) == 64
    with pytest.raises(ConfigError, match="has no attribute 'nope'"):
        build_model(f"py:{tmp_path}/mynet.py:nope", in_channels=1)
    with pytest.raises(ConfigError, match="does not exist"):
        build_model(f"py:{tmp_path}/other.py:build", in_channels=1)


def test_timm_pretrained_from_the_cache_goes_through_timm_s_loader(tmp_path, monkeypatch):
    import timm

    from freqprobe.models import weight_files

    torch.manual_seed(1)
    state = timm.create_model("resnet18").state_dict()
    save_file({key: value.contiguous() for key, value in state.items()}, str(tmp_path / "model.safetensors"))
    monkeypatch.setattr(weight_files, "_timm_cached_file", lambda config: tmp_path / "model.safetensors")
    built = build_model("timm:resnet18", in_channels=3, num_classes=10, weights="pretrained")
    assert_body_holds(built.model, state, skip=("fc.",))
    assert built.model.body.fc.out_features == 10
    assert built.model.normalize.std.tolist() == pytest.approx(IMAGENET_STD)
    assert built.record["weights_origin"] == "timm timm/resnet18.a1_in1k (model.safetensors)"


def test_a_factory_from_an_importable_module(tmp_path, monkeypatch):
    (tmp_path / "user_nets").mkdir()
    (tmp_path / "user_nets" / "__init__.py").write_text("")
    (tmp_path / "user_nets" / "small.py").write_text(FACTORY)
    monkeypatch.syspath_prepend(str(tmp_path))
    built = build_model("py:user_nets.small:build", in_channels=1, num_classes=4)
    assert built.model.body[4].out_features == 4 and "file" not in built.record
    with pytest.raises(ConfigError, match="cannot import user_nets.absent"):
        build_model("py:user_nets.absent:build", in_channels=1)


def test_a_file_saved_from_a_freqprobe_model_loads_into_the_wrapper(tmp_path):
    from freqprobe.models import save_weights

    options = dict(in_channels=1, num_classes=10, small_input=True, channel_adapter="sum-stem")
    trained = build_model("tv:resnet18", mean=[0.3], std=[0.2], **options).model
    save_weights(trained, tmp_path / "model.safetensors")
    built = build_model("tv:resnet18", weights=tmp_path / "model.safetensors", **options)
    for key, value in trained.state_dict().items():
        assert torch.equal(built.model.state_dict()[key], value), key
    assert built.record["normalization"] == {
        "source": "the weights file (normalize.mean/std)", "mean": pytest.approx([0.3]), "std": pytest.approx([0.2]),
    }  # fmt: skip

"""Weights files: round trip, atomic writes, and one-line errors naming the file and the first bad key."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from freqprobe.errors import FreqprobeError
from freqprobe.models import WeightsError, create_model, load_weights, save_weights


def trained_looking(name: str = "resnet20", seed: int = 0, **kwargs) -> torch.nn.Module:
    """A model whose buffers differ from a fresh one (normalization and BN statistics), so loading is visible."""
    torch.manual_seed(seed)
    model = create_model(name, **kwargs)
    model.set_normalization(mean=torch.rand(model.normalize.num_channels), std=torch.rand(model.normalize.num_channels) + 0.5)
    with torch.no_grad():
        model.train()
        model(torch.rand(4, model.normalize.num_channels, 12, 12))
    return model.eval()


def test_round_trip_restores_every_tensor_and_the_outputs(tmp_path):
    source = trained_looking(seed=0)
    path = tmp_path / "run" / "model.safetensors"
    save_weights(source, path)
    assert [p.name for p in path.parent.iterdir()] == ["model.safetensors"]  # no temp file left behind
    target = create_model("resnet20")
    assert load_weights(target, path) is target
    expected = source.state_dict()
    loaded = target.state_dict()
    assert loaded.keys() == expected.keys()
    for key in expected:
        assert torch.equal(loaded[key], expected[key]), key
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(target.eval()(x), source(x))


def test_channels_last_model_saves_the_same_tensors(tmp_path):
    model = trained_looking()
    save_weights(model, tmp_path / "a.safetensors")
    save_weights(model.to(memory_format=torch.channels_last), tmp_path / "b.safetensors")
    a, b = load_file(str(tmp_path / "a.safetensors")), load_file(str(tmp_path / "b.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_antialiased_and_plain_models_share_weight_files(tmp_path):
    """BlurPool holds no state, so the antialias switch changes the computation, not the weights."""
    save_weights(trained_looking("resnet18", antialias=False), tmp_path / "w.safetensors")
    load_weights(create_model("resnet18", antialias=True), tmp_path / "w.safetensors")


def assert_one_line(error: pytest.ExceptionInfo, *fragments: str) -> None:
    message = str(error.value)
    assert isinstance(error.value, FreqprobeError)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_missing_file(tmp_path):
    path = tmp_path / "nope.safetensors"
    with pytest.raises(WeightsError) as error:
        load_weights(create_model("resnet20"), path)
    assert_one_line(error, str(path), "does not exist")


@pytest.mark.parametrize("corruption", ["garbage", "truncated", "empty"])
def test_corrupt_file(tmp_path, corruption):
    path = tmp_path / "model.safetensors"
    save_weights(create_model("resnet20"), path)
    data = path.read_bytes()
    path.write_bytes({"garbage": b"\xff" * 64, "truncated": data[: len(data) // 2], "empty": b""}[corruption])
    with pytest.raises(WeightsError) as error:
        load_weights(create_model("resnet20"), path)
    assert_one_line(error, str(path), "not a readable safetensors file")


def test_file_from_a_smaller_model_names_the_first_missing_key(tmp_path):
    path = tmp_path / "r20.safetensors"
    save_weights(create_model("resnet20"), path)
    with pytest.raises(WeightsError) as error:
        load_weights(create_model("resnet32"), path)
    assert_one_line(error, str(path), "lacks", "'layer1.3.conv1.weight'")


def test_file_from_a_larger_model_names_the_first_extra_key(tmp_path):
    path = tmp_path / "r32.safetensors"
    save_weights(create_model("resnet32"), path)
    with pytest.raises(WeightsError) as error:
        load_weights(create_model("resnet20"), path)
    assert_one_line(error, str(path), "the model lacks", "'layer1.3.bn1.bias'")


@pytest.mark.parametrize(
    "saved,loading,key,shapes",
    [
        (dict(num_classes=10), dict(num_classes=100), "'fc.weight'", "(10, 64) but the model expects (100, 64)"),
        (dict(in_channels=1), dict(in_channels=3), "'normalize.mean'", "(1,) but the model expects (3,)"),
    ],
)
def test_shape_mismatch_names_the_first_differing_tensor(tmp_path, saved, loading, key, shapes):
    path = tmp_path / "model.safetensors"
    save_weights(create_model("resnet20", **saved), path)
    target = create_model("resnet20", **loading)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(WeightsError) as error:
        load_weights(target, path)
    assert_one_line(error, str(path), key, shapes)
    assert all(torch.equal(before[k], v) for k, v in target.state_dict().items())  # nothing half-loaded


def test_weights_file_problem_accepts_a_whole_file_and_names_truncation_and_padding(tmp_path):
    from freqprobe.models import weights_file_problem

    path = tmp_path / "model.safetensors"
    save_weights(create_model("resnet20", in_channels=1), path)
    whole = path.read_bytes()
    assert weights_file_problem(path) is None
    path.write_bytes(whole[:-1])  # one byte short: the header still parses, the data section does not fit
    assert "truncated" in weights_file_problem(path)
    path.write_bytes(whole + b"\0")
    assert "trailing bytes" in weights_file_problem(path)
    path.write_bytes(whole[:200])  # cut inside the header
    assert "truncated" in weights_file_problem(path)
    path.write_bytes(b"\x10\0\0\0\0\0\0\0not json at all!")
    assert "not valid JSON" in weights_file_problem(path)
    path.write_bytes(b"abc")
    assert "shorter than a safetensors header" in weights_file_problem(path)
    assert weights_file_problem(tmp_path / "absent.safetensors") == "is missing"


def test_rename_by_order_loads_another_implementations_checkpoint(tmp_path):
    from freqprobe.models.weight_files import read_state_dict, rename_by_order

    source = create_model("resnet20", in_channels=1, num_classes=10)
    foreign = {f"_layer{index}.{key.rsplit('.', 1)[-1]}": value for index, (key, value) in
               enumerate(source.state_dict().items())}
    torch.save(foreign, tmp_path / "foreign.pth")
    target = create_model("resnet20", in_channels=1, num_classes=10)
    target.load_state_dict(rename_by_order(read_state_dict(tmp_path / "foreign.pth"), target.state_dict(), "f.pth"))
    images = torch.rand(2, 1, 28, 28)
    assert torch.equal(source.eval()(images), target.eval()(images))


def test_rename_by_order_refuses_another_architecture():
    from freqprobe.models.weight_files import rename_by_order

    small = create_model("resnet20", in_channels=1, num_classes=10).state_dict()
    with pytest.raises(WeightsError, match="holds .* tensors where the model has"):
        rename_by_order(small, create_model("resnet32", in_channels=1, num_classes=10).state_dict(), "f.pth")
    other_classes = create_model("resnet20", in_channels=1, num_classes=7).state_dict()
    with pytest.raises(WeightsError, match=r"f.pth: fc.weight \(10, 64\) pairs with fc.weight \(7, 64\)"):
        rename_by_order(small, other_classes, "f.pth")
    keys = list(small)
    first = keys.index("stem_bn.weight")  # a batch norm's weight and bias, both (16,), saved in the other order
    keys[first], keys[first + 1] = keys[first + 1], keys[first]
    with pytest.raises(WeightsError, match=r"stem_bn.bias \(16,\) pairs with stem_bn.weight \(16,\)"):
        rename_by_order({key: small[key] for key in keys}, small, "f.pth")

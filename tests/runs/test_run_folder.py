"""The one run-folder reader: config flattened once, completeness with whole weights, image shape from the record or
the dataset itself, model and fitted filter, and one-line errors for every missing piece."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from freqprobe.models import create_model, save_weights
from freqprobe.runs import RunFolder, RunFolderError


def write_run(folder, config: dict, data: dict | None = None, metrics: bool = True, model=None) -> None:
    """A run folder in the trainer's layout (config.json nested, data section optional)."""
    folder.mkdir(parents=True, exist_ok=True)
    info = {"config": config, "filter": {"spec": config.get("filter", "none"), "boundary": "circular"}}
    if data is not None:
        info["data"] = data
    (folder / "config.json").write_text(json.dumps(info))
    if model is not None:
        save_weights(model, folder / "model.safetensors")
    if metrics:
        (folder / "metrics.json").write_text(json.dumps({"test_accuracy": 0.5, "val_accuracy": 0.4}))


def tiny_folder_dataset(root, size: int = 8):
    """train/ and test/ with two classes of two RGB size x size PNGs each."""
    for split in ("train", "test"):
        for label in ("a", "b"):
            (root / split / label).mkdir(parents=True)
            for index in range(2):
                pixels = torch.randint(0, 256, (size, size, 3), dtype=torch.uint8).numpy()
                Image.fromarray(pixels).save(root / split / label / f"{index}.png")
    return root


def test_config_is_flat_with_the_recorded_data_keys(tmp_path):
    write_run(tmp_path / "r", {"dataset": "fashion-mnist", "model": "resnet20", "filter": "blur:2", "seed": 3},
              data={"image_shape": [1, 28, 28], "classes": list("0123456789")})
    run = RunFolder(tmp_path / "r")
    assert run.config["seed"] == 3 and run.config["image_shape"] == [1, 28, 28]
    assert (run.dataset, run.model_name, run.filter_spec, run.boundary) == ("fashion-mnist", "resnet20", "blur:2",
                                                                           "circular")
    assert run.image_shape() == (1, 28, 28) and run.in_channels() == 1 and run.num_classes() == 10


def test_image_shape_without_a_record_comes_from_the_dataset_not_from_a_default(tmp_path):
    data = tiny_folder_dataset(tmp_path / "images", size=8)
    write_run(tmp_path / "r", {"dataset": f"folder:{data}", "model": "resnet20"})
    assert RunFolder(tmp_path / "r").image_shape() == (3, 8, 8)  # compare used to assume (3, 32, 32)


def test_complete_needs_final_metrics_and_whole_weights(tmp_path):
    model = create_model("resnet20", in_channels=1)
    write_run(tmp_path / "r", {"dataset": "fashion-mnist", "model": "resnet20"}, model=model)
    run = RunFolder(tmp_path / "r")
    assert run.completeness_problem() is None and run.is_complete
    weights = tmp_path / "r" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    problem = RunFolder(tmp_path / "r").completeness_problem()
    assert "model.safetensors" in problem and "truncated" in problem and "\n" not in problem
    with pytest.raises(RunFolderError, match="model.safetensors .*truncated"):
        RunFolder(tmp_path / "r").load_model()
    (tmp_path / "r" / "metrics.json").unlink()
    assert "metrics.json" in RunFolder(tmp_path / "r").completeness_problem()


def test_load_model_takes_channels_and_classes_from_the_weights_when_not_recorded(tmp_path):
    torch.manual_seed(0)
    model = create_model("resnet20", in_channels=1, num_classes=7)
    write_run(tmp_path / "r", {"dataset": "fashion-mnist", "model": "resnet20"}, model=model)
    loaded = RunFolder(tmp_path / "r").load_model()
    assert not loaded.training and loaded.fc.out_features == 7
    torch.testing.assert_close(loaded.stem.weight, model.stem.weight)


def test_a_fitted_filter_without_its_checkpoint_is_refused_in_one_line(tmp_path):
    write_run(tmp_path / "r", {"dataset": "fashion-mnist", "model": "resnet20", "filter": "whiten"})
    with pytest.raises(RunFolderError, match=r"has neither filter_state.safetensors nor checkpoint.pt with the fitted state of filter .whiten.") as err:
        RunFolder(tmp_path / "r").load_input_filter()
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("absent", "does not exist"),
        ("no-config", "has no config.json"),
        ("no-dataset", "lacks 'dataset'"),
    ],
)
def test_every_missing_piece_is_one_line_naming_the_file(tmp_path, setup, message):
    folder = tmp_path / "r"
    if setup == "no-config":
        folder.mkdir()
    if setup == "no-dataset":
        write_run(folder, {"model": "resnet20"})
    run = RunFolder(folder)
    with pytest.raises(RunFolderError, match=message) as error:
        run.dataset
    assert "\n" not in str(error.value)
    assert message in run.completeness_problem()
    with pytest.raises(RunFolderError, match="metrics.json"):
        RunFolder(tmp_path / "elsewhere").metrics


def test_a_fitted_filter_is_loaded_from_filter_state_safetensors_without_a_checkpoint(tmp_path, shared_data):
    from freqprobe.data import load_dataset
    from freqprobe.filters import build_filter
    from freqprobe.train.run_folder import write_filter_state

    images = load_dataset("fashion-mnist", train=False, root=shared_data).images[:64]
    fitted = build_filter("whiten").fit(images)
    write_run(tmp_path / "r", {"dataset": "fashion-mnist", "model": "resnet20", "filter": "whiten"})
    path = write_filter_state(tmp_path / "r", fitted, note="test")
    assert path == tmp_path / "r" / "filter_state.safetensors" and not (tmp_path / "r" / "checkpoint.pt").exists()
    loaded = RunFolder(tmp_path / "r").load_input_filter()
    assert loaded.is_fitted and not loaded.training
    torch.testing.assert_close(loaded.mean_amplitude, fitted.mean_amplitude, rtol=0, atol=0)
    x = images[:4].float() / 255
    torch.testing.assert_close(loaded(x), fitted(x), rtol=0, atol=0)
    assert write_filter_state(tmp_path / "r", build_filter("blur:2")) is None  # nothing fitted, nothing written


def test_a_damaged_filter_state_file_is_one_line(tmp_path):
    write_run(tmp_path / "r", {"dataset": "fashion-mnist", "model": "resnet20", "filter": "whiten"})
    (tmp_path / "r" / "filter_state.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{")
    with pytest.raises(RunFolderError, match="filter_state.safetensors is not a readable safetensors file") as err:
        RunFolder(tmp_path / "r").load_input_filter()
    assert "\n" not in str(err.value)

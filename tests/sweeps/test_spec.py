"""freqprobe.sweeps.spec: bad specs fail in one line naming the file and line; the example specs are valid."""

from __future__ import annotations

import pytest

from freqprobe.sweeps.grid import expand_grid
from freqprobe.sweeps.spec import load_spec

from sweep_helpers import REPO, one_line_error, write_spec


GOOD_SPEC = "[base]\nepochs = 1\n[grid]\ndatasets = ['fashion-mnist']\nseeds = [0]\n"


@pytest.mark.parametrize("text, fragments", [
    (GOOD_SPEC + "[per_dataset.mnist]\nepochs = 2\n",
     ["bad.toml:6", "[per_dataset.\"mnist\"] names a dataset this sweep does not train", "its datasets: fashion-mnist"]),
    (GOOD_SPEC + '[per_dataset."fashion-mnist"]\nepohcs = 2\n',
     ["bad.toml:7", "unknown field 'epohcs'", "did you mean 'epochs'"]),
    (GOOD_SPEC + '[per_dataset."fashion-mnist"]\nseed = 2\n', ["bad.toml:7", "'seed' is set in both", "[grid]"]),
    (GOOD_SPEC + '[per_dataset."fashion-mnist"]\ndataset = "cifar10"\n', ["unknown field 'dataset'"]),
    ("per_dataset = 3\n" + GOOD_SPEC, ["bad.toml:1", "per_dataset must hold one table per dataset"]),
    (GOOD_SPEC + "[per_model.vgg11_bn]\nwidth_multiplier = 0.5\n",
     ["bad.toml:6", "[per_model.\"vgg11_bn\"] names a model this sweep does not train", "its models: resnet20"]),
    (GOOD_SPEC + '[per_model."resnet20"]\nmodel = "vgg11_bn"\n', ["unknown field 'model'"]),
])  # fmt: skip
def test_bad_per_dataset_tables_fail_in_one_line(tmp_path, text, fragments):
    path = write_spec(tmp_path / "bad.toml", text)
    message = one_line_error(lambda: expand_grid(load_spec(path)))
    for fragment in fragments:
        assert fragment in message


def test_missing_spec_file(tmp_path):
    message = one_line_error(load_spec, tmp_path / "nope.toml")
    assert "nope.toml not found" in message and "experiments/example_sweep.toml" in message


def test_bad_toml_names_file_and_line(tmp_path):
    path = write_spec(tmp_path / "bad.toml", "[base]\nepochs = 1\n[grid]\nseeds == [0]\n")
    message = one_line_error(load_spec, path)
    assert "bad.toml" in message and "invalid TOML" in message and "line 4" in message


@pytest.mark.parametrize("text, fragments", [
    ("[base]\nepochs = 1\n[gird]\nseeds = [0]\n", ["bad.toml:3", "unknown table or key 'gird'"]),
    ("[base]\nepohcs = 1\n[grid]\ndatasets = ['fashion-mnist']\n", ["bad.toml:2", "'epohcs'", "did you mean 'epochs'"]),
    ("[base]\ndataset = 'fashion-mnist'\n[grid]\nfilterz = ['none']\n", ["bad.toml:4", "did you mean 'filters'"]),
    ("[base]\ndataset = 'fashion-mnist'\n[grid]\n", ["[grid] is empty"]),
    ("[base]\ndataset = 'fashion-mnist'\n", ["has no [grid] table"]),
    ("[base]\ndataset = 'fashion-mnist'\n[grid]\nseeds = 0\n", ["grid.seeds must be a list", "seeds = [0]"]),
    ("[base]\ndataset = 'fashion-mnist'\n[grid]\nseeds = []\n", ["grid.seeds is an empty list"]),
    ("[base]\ndataset = 'fashion-mnist'\n[grid]\nseeds = [1, 1]\n", ["lists 1 twice"]),
    ("[base]\ndataset = 'fashion-mnist'\nseed = 1\n[grid]\nseeds = [0]\n", ["'seed' is set in both"]),
    ("[base]\ndataset = 'fashion-mnist'\n[grid]\nseeds = [0]\nseed = [1]\n", ["'seed' twice"]),
    ("[base]\nepochs = 1\n[grid]\nseeds = [0]\n", ["names no dataset"]),
    ("[base]\nepochs = 0\n[grid]\ndatasets = ['fashion-mnist']\n", ["dataset=\"fashion-mnist\"", "epochs must be"]),
    ("[base]\npreset = 'nope'\n[grid]\ndatasets = ['fashion-mnist']\n", ["unknown preset 'nope'"]),
    ("[base]\nepochs = 1\n[grid]\ndatasets = ['fashion-mnist']\nfilters = ['none', 'blur:0']\n",
     ['filter="blur:0"', "out of range"]),
    ("[base]\nepochs = 1\n[grid]\ndatasets = ['mnist']\n", ["unknown dataset 'mnist'; valid: cifar10"]),
    ("[base]\nmodel = 'resnet21'\n[grid]\ndatasets = ['fashion-mnist']\n", ["unknown model 'resnet21'"]),
])
def test_bad_specs_fail_in_one_line(tmp_path, text, fragments):
    path = write_spec(tmp_path / "bad.toml", text)
    message = one_line_error(lambda: expand_grid(load_spec(path)))
    assert "bad.toml" in message
    for fragment in fragments:
        assert fragment in message


SWEEP_SPECS = sorted(p.name for p in (REPO / "experiments").glob("*.toml") if "[grid]" in p.read_text())


def test_every_toml_in_experiments_is_a_sweep_spec_or_the_example_train_config():
    names = {p.name for p in (REPO / "experiments").glob("*.toml")}
    assert names - set(SWEEP_SPECS) == {"example_train.toml"}


@pytest.mark.parametrize("name", SWEEP_SPECS)
def test_the_example_specs_are_valid(name):
    runs = expand_grid(load_spec(REPO / "experiments" / name))
    assert runs and len({run.name for run in runs}) == len(runs)


def test_the_anatomy_spec_matches_flops_within_a_factor_of_2():
    # issue 16 compares families at matched compute; the spec's per-model widths are what makes it so
    from freqprobe.models.cost import count_flops
    from freqprobe.models.registry import create_model

    runs = expand_grid(load_spec(REPO / "experiments" / "anatomy_architectures.toml"))
    widths = {run.config["model"]: run.config["width_multiplier"] for run in runs}
    flops = {
        name: count_flops(create_model(name, in_channels=3, num_classes=10, width_multiplier=width), (3, 32, 32))
        for name, width in widths.items()
    }
    assert len(flops) >= 6
    assert max(flops.values()) <= 2 * min(flops.values()), flops
    stated = {"resnet20": 81.1, "vgg11_bn": 77.3, "mobilenet_v2": 55.9, "wrn16_4": 106, "allcnn_c": 95.4,
              "convnext_atto": 88.6}  # the figures the spec's comment states, in MFLOPs
    assert {name: float(f"{value / 1e6:.3g}") for name, value in flops.items()} == stated

"""freqprobe.sweeps.grid: grid expansion, run names, per-dataset settings and shards."""

from __future__ import annotations

import hashlib
import json

import pytest

from freqprobe.errors import ConfigError
from freqprobe.sweeps.grid import (
    MAX_OPTIONS_LABEL,
    expand_grid,
    legacy_run_name,
    options_hash,
    options_label,
    parse_shard,
    shard_runs,
)
from freqprobe.sweeps.spec import spec_from_dict
from freqprobe.sweeps.tables import describe_settings

from sweep_helpers import make_spec


def test_grid_expands_to_the_product_with_readable_names():
    runs = expand_grid(make_spec())
    names = [run.name for run in runs]
    expected = [
        f"{dataset}__resnet20__{filt}__seed{seed}"
        for dataset in ("fashion-mnist", "cifar10")
        for filt in ("none", "blur-2", "highpass-2")
        for seed in (0, 1)
    ]
    assert names == expected
    assert [run.index for run in runs] == list(range(12))
    assert runs[5].config["dataset"] == "fashion-mnist" and runs[5].config["filter"] == "highpass:2"
    assert runs[5].config["seed"] == 1 and runs[5].config["epochs"] == 1


def test_grid_order_is_canonical_whatever_order_the_spec_uses():
    reordered = make_spec({"seeds": [0, 1], "filters": ["none", "blur:2"], "datasets": ["fashion-mnist"]})
    assert list(reordered.grid) == ["dataset", "filter", "seed"]
    assert [run.name for run in expand_grid(reordered)][:2] == [
        "fashion-mnist__resnet20__none__seed0",
        "fashion-mnist__resnet20__none__seed1",
    ]


def test_other_swept_options_are_named_in_words():
    spec = make_spec({"datasets": ["fashion-mnist"], "antialias": [False, True], "lr": [0.05], "seeds": [0]})
    runs = expand_grid(spec)
    assert [run.name for run in runs] == [
        "fashion-mnist__resnet20__none__seed0__antialias-false__lr-0.05",
        "fashion-mnist__resnet20__none__seed0__antialias-true__lr-0.05",
    ]
    assert [run.options for run in runs] == [{"antialias": False, "lr": 0.05}, {"antialias": True, "lr": 0.05}]
    conv = expand_grid(make_spec({"datasets": ["fashion-mnist"], "conv": ["bandpass:gabor@stem"], "seeds": [1]}))
    assert conv[0].name == "fashion-mnist__resnet20__none__seed1__conv-bandpass-gabor-stem"


def test_the_legacy_name_is_the_hash_of_the_options():
    spec = make_spec({"datasets": ["fashion-mnist"], "antialias": [True], "lr": [0.05], "seeds": [0]})
    (run,) = expand_grid(spec)
    expected_hash = hashlib.sha1(json.dumps({"antialias": True, "lr": 0.05}, sort_keys=True).encode()).hexdigest()[:8]
    assert legacy_run_name(run.config, run.options) == f"fashion-mnist__resnet20__none__seed0__{expected_hash}"


def test_a_long_options_label_is_cut_and_stays_unique():
    long_values = ["x" * 150 + "a", "x" * 150 + "b"]
    labels = [options_label({"conv": value}) for value in long_values]
    assert all(len(label) == MAX_OPTIONS_LABEL for label in labels) and labels[0] != labels[1]
    assert labels[0].startswith("conv-xxx") and labels[0][-9:] == "-" + options_hash({"conv": long_values[0]})


def test_folder_datasets_are_named_by_their_file():
    spec = make_spec({"datasets": ["folder:/data/x/cifar10-jpeg.tar.gz"], "seeds": [3]})
    assert expand_grid(spec)[0].name == "folder-cifar10-jpeg__resnet20__none__seed3"


def test_a_preset_is_resolved_per_dataset():
    from freqprobe.train.presets import PRESETS

    spec = make_spec({"datasets": ["fashion-mnist", "cifar10"]}, base={"preset": "fast"})
    fmnist, cifar = expand_grid(spec)
    assert fmnist.config["epochs"] == PRESETS["fast"]["fashion-mnist"]["epochs"]
    assert cifar.config["epochs"] == PRESETS["fast"]["cifar10"]["epochs"]
    assert fmnist.config["crop_padding"] == PRESETS["fast"]["fashion-mnist"]["crop_padding"]
    settings = describe_settings([fmnist, cifar])
    if fmnist.config["epochs"] != cifar.config["epochs"]:
        assert f"epochs {fmnist.config['epochs']} (fashion-mnist) / {cifar.config['epochs']} (cifar10)" in settings
    else:
        assert f"epochs {fmnist.config['epochs']}," in settings
    assert "preset fast" in settings and "subset" not in settings


def test_per_dataset_tables_set_fields_for_one_dataset_only():
    spec = spec_from_dict({
        "base": {"epochs": 1, "preset": "fast"},
        "grid": {"datasets": ["fashion-mnist", "cifar10"], "seeds": [0]},
        "per_dataset": {"cifar10": {"epochs": 5, "val_fraction": 0.3, "cutout": 0}},
    })  # fmt: skip
    fmnist, cifar = expand_grid(spec)
    assert (fmnist.config["epochs"], cifar.config["epochs"]) == (1, 5)  # over [base]
    assert (fmnist.config["val_fraction"], cifar.config["val_fraction"]) == (0.1, 0.3)  # over the preset
    assert cifar.config["tta_translate"] == 1 and cifar.config["tta_flip"]  # the rest of the preset stays
    assert (fmnist.name, cifar.name) == ("fashion-mnist__resnet20__none__seed0", "cifar10__resnet20__none__seed0")


def test_per_model_tables_set_fields_for_one_model_only_over_per_dataset():
    spec = spec_from_dict({
        "base": {"epochs": 1, "width_multiplier": 1.0},
        "grid": {"datasets": ["fashion-mnist"], "models": ["resnet20", "vgg11_bn"], "seeds": [0]},
        "per_dataset": {"fashion-mnist": {"epochs": 2}},
        "per_model": {"vgg11_bn": {"width_multiplier": 0.5, "epochs": 3}},
    })  # fmt: skip
    resnet, vgg = expand_grid(spec)
    assert (resnet.config["width_multiplier"], vgg.config["width_multiplier"]) == (1.0, 0.5)
    assert (resnet.config["epochs"], vgg.config["epochs"]) == (2, 3)  # [per_model] over [per_dataset]
    assert vgg.name == "fashion-mnist__vgg11-bn__none__seed0"


@pytest.mark.parametrize("count", [1, 2, 3, 5, 12, 13])
def test_shards_partition_the_grid_exactly(count):
    runs = expand_grid(make_spec())
    shards = [shard_runs(runs, index, count) for index in range(count)]
    names = [run.name for shard in shards for run in shard]
    assert sorted(names) == sorted(run.name for run in runs)  # union is everything
    assert len(names) == len(set(names))  # disjoint
    assert all(run.index % count == index for index, shard in enumerate(shards) for run in shard)


@pytest.mark.parametrize("text, expected", [("0/1", (0, 1)), ("2/3", (2, 3)), (" 1 / 4 ", (1, 4))])
def test_parse_shard_accepts_zero_based_shards(text, expected):
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text, fragment", [
    ("3/2", "0-based, use 0/2 .. 1/2"),
    ("2/2", "0-based, use 0/2 .. 1/2"),
    ("1/0", "at least 1"),
    ("a/b", "not of the form i/n"),
    ("-1/2", "not of the form i/n"),
    ("1", "not of the form i/n"),
])
def test_parse_shard_rejects_bad_shards_in_one_line(text, fragment):
    with pytest.raises(ConfigError) as error:
        parse_shard(text)
    assert fragment in str(error.value) and "\n" not in str(error.value)

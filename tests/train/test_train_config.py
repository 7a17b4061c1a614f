"""TrainConfig: defaults < preset < TOML file < CLI flags, and one-line errors for bad input."""

from __future__ import annotations

import argparse

import pytest

from freqprobe.cli import main
from freqprobe.errors import ConfigError
from freqprobe.train import TrainConfig, config_from_dict, config_from_toml
from freqprobe.train.commands import add_commands, config_from_args
from freqprobe.train.presets import PRESETS, dataset_kind, preset_values


def parse_train(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(["train", *argv])


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_round_trip_through_a_dict():
    config = config_from_dict({"dataset": "fashion-mnist"})
    assert config.model == "resnet20" and config.filter == "none" and config.schedule == "onecycle"
    assert config_from_dict(config.to_dict()) == config


def test_preset_then_file_then_flags(tmp_path):
    toml = write(tmp_path / "run.toml", 'dataset = "fashion-mnist"\npreset = "fast"\nepochs = 3\nlr = 0.05\n')
    args = parse_train(["--config", str(toml), "--lr", "0.3", "--out", "x"])
    config = config_from_args(args)
    fast = PRESETS["fast"]["fashion-mnist"]
    assert config.preset == "fast"
    assert config.label_smoothing == fast["label_smoothing"] == 0.1  # from the preset
    assert config.batch_size == fast["batch_size"]
    assert config.epochs == 3  # the file overrides the preset
    assert config.lr == 0.3  # the flag overrides the file
    assert config.crop_padding == fast["crop_padding"]


def test_flag_preset_overrides_the_file_preset_and_dataset_picks_the_recipe(tmp_path):
    toml = write(tmp_path / "run.toml", 'preset = "fast"\ndataset = "fashion-mnist"\n')
    config = config_from_args(parse_train(["--config", str(toml), "--preset", "original", "--dataset", "cifar10"]))
    assert (config.preset, config.dataset, config.schedule, config.lr) == ("original", "cifar10", "step", 0.1)
    assert config.label_smoothing == 0.0 and config.step_size == 50 and config.step_gamma == 0.1


def test_unset_flags_do_not_override_the_file(tmp_path):
    toml = write(tmp_path / "run.toml", 'dataset = "cifar10"\nval_fraction = 0.1\nsplit_seed = 3\nnesterov = false\n')
    config = config_from_args(parse_train(["--config", str(toml)]))
    assert (config.val_fraction, config.split_seed, config.nesterov) == (0.1, 3, False)


def test_cifar_fast_preset_is_the_measured_recipe():
    # BENCHMARKS.md measures exactly this recipe; a change here must be measured again
    values = preset_values("fast", "cifar10")
    assert values == {**preset_values("fast", "folder:x"), "preset": "fast"}
    assert (values["epochs"], values["val_fraction"], values["cutout"], values["tta_translate"]) == (40, 0.1, 0, 1)
    assert values["tta_flip"] is True and values["model"] == "resnet20"
    assert "cutout" not in preset_values("fast", "fashion-mnist")  # Fashion-MNIST's recipe is unchanged


def test_preset_kinds_cover_folder_datasets():
    assert dataset_kind("folder:../shared/data/cifar10-jpeg.tar.gz") == "folder"
    assert preset_values("fast", "folder:x")["model"] == "resnet20"
    with pytest.raises(ConfigError, match="unknown preset 'turbo'; valid: fast, original"):
        preset_values("turbo", "cifar10")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"epochs": 0}, "epochs must be an integer >= 1, got 0"),
        ({"lr": 0.0}, "lr must be > 0, got 0.0"),
        ({"lr": -1}, "lr must be > 0"),
        ({"lr": float("nan")}, "lr must be a finite number"),
        ({"schedule": "linear"}, "schedule must be one of onecycle, cosine, step"),
        ({"label_smoothing": 1.0}, r"label_smoothing must be in \[0, 1\)"),
        ({"batch_size": "64"}, "batch_size must be an integer >= 1, got '64'"),
        ({"nesterov": "yes"}, "nesterov must be true or false"),
        ({"momentum": 0.0}, "nesterov = true needs momentum > 0"),
        ({"device": "tpu"}, "device must be auto, cpu, cuda or cuda:N"),
        ({"cutout": -1}, "cutout must be an integer >= 0, got -1"),
        ({"tta_translate": 1.5}, "tta_translate must be an integer >= 0, got 1.5"),
        ({"lr_max": 1.0}, "unknown config key 'lr_max'; valid keys: dataset, model"),
    ],
)
def test_bad_values_raise_one_line(values, message):
    with pytest.raises(ConfigError, match=message) as error:
        config_from_dict({"dataset": "fashion-mnist", **values})
    assert "\n" not in str(error.value)


def test_toml_syntax_error_names_file_and_line(tmp_path):
    toml = write(tmp_path / "bad.toml", 'dataset = "fashion-mnist"\nepochs = = 3\n')
    with pytest.raises(ConfigError, match=r"bad\.toml: invalid TOML: .*line 2"):
        config_from_toml(toml)


def test_toml_unknown_key_names_its_line(tmp_path):
    toml = write(tmp_path / "typo.toml", 'dataset = "fashion-mnist"\n\nepoch = 3\n')
    with pytest.raises(ConfigError, match=r"typo\.toml:3: unknown config key 'epoch'"):
        config_from_toml(toml)


def test_toml_bad_value_names_its_line_unless_a_flag_overrides_it(tmp_path):
    toml = write(tmp_path / "v.toml", 'dataset = "fashion-mnist"\nlr = 0.1\nepochs = -2\n')
    with pytest.raises(ConfigError, match=r"v\.toml:3: epochs must be an integer >= 1, got -2"):
        config_from_toml(toml)
    assert config_from_toml(toml, {"epochs": 4}).epochs == 4


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match=r"config file .*nope\.toml does not exist"):
        config_from_toml(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dataset", "fashion-mnist", "--epochs", "0"], "epochs must be an integer >= 1, got 0"),
        (["--dataset", "fashion-mnist", "--lr", "-0.1"], "lr must be > 0"),
        (["--dataset", "fashion-mnist", "--preset", "turbo"], "unknown preset 'turbo'"),
        (["--epochs", "2"], "no dataset given; pass --dataset"),
        (["--dataset", "fashion-mnist"], "no run folder given; pass --out RUN"),
    ],
)
def test_cli_rejects_bad_options_with_exit_2(argv, message, tmp_path, capsys):
    out = [] if "no run folder" in message else ["--out", str(tmp_path / "run")]
    assert main(["train", *argv, *out]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("freqprobe: error: ") and message in err[0]
    assert not (tmp_path / "run").exists()


def test_cli_reports_bad_toml_with_file_and_line(tmp_path, capsys):
    toml = write(tmp_path / "c.toml", 'dataset = "fashion-mnist"\nschedule = "linear"\n')
    assert main(["train", "--config", str(toml), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"freqprobe: error: {toml}:2: schedule must be one of onecycle, cosine, step, got 'linear'"
    )


def test_to_dict_keeps_every_field():
    config = TrainConfig(dataset="cifar10", channels_last="true")
    assert config.channels_last is True
    assert set(config.to_dict()) == {f for f in TrainConfig.__dataclass_fields__}

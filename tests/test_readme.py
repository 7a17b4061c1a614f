"""The README cannot drift: the commands .ci/run uses, the files it names, and its commands and code blocks.

Commands that take seconds run for real (``freqprobe data info``, every ``--help``, the Python API block); the
others (training, sweeps, analyses) are parsed by the real CLI parser and their training configurations and sweep
specs are built and validated, which is what a typo or a renamed option or file would break.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from freqprobe.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
# Repository paths the README names (outputs such as out/ or runs/ are not in the repository and are not checked).
REPO_PATH = re.compile(r"(?<![\w./-])(?:results|experiments|scripts|benchmarks|src|tests|\.ci)/[\w./+-]*[\w/]")
TOP_LEVEL_FILE = re.compile(r"(?<![\w./-])(?:(?:BENCHMARKS|DESIGN|README)\.md|pyproject\.toml)\b")


def section(title: str) -> str:
    """The README text from the ``## title`` heading to the next ``## `` heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, flags=re.M | re.S)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.M | re.S)


def command_lines(text: str) -> list[str]:
    """Every line of the text's bash blocks, trailing comments removed."""
    lines = []
    for block in code_blocks(text, "bash"):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def freqprobe_argv(line: str) -> list[str] | None:
    """The arguments after ``freqprobe`` (also in ``torchrun ... -m freqprobe ...``), or None for other commands."""
    words = shlex.split(line)
    if words[:1] == ["freqprobe"]:
        return words[1:]
    if "-m" in words and words[words.index("-m") + 1:words.index("-m") + 2] == ["freqprobe"]:
        return words[words.index("-m") + 2:]
    return None


README_COMMANDS = [argv for argv in map(freqprobe_argv, command_lines(README)) if argv is not None]


def ci_commands() -> list[str]:
    """The project commands .ci/run runs: its lines that call one of the repository's scripts."""
    lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if re.match(r"\s*bash\s+scripts/", line)]


def test_the_fresh_machine_section_names_the_commands_ci_runs():
    commands = ci_commands()
    assert commands, ".ci/run calls no scripts/ command any more; update this test and the README together"
    fresh = command_lines(section("On a fresh machine"))
    for command in commands:
        assert command in fresh, f"README 'On a fresh machine' does not show {command!r}, which .ci/run runs"
    assert "bash scripts/main.sh" in fresh
    for command in fresh:
        script = REPO / shlex.split(command)[1]
        assert script.is_file(), f"README names {script.relative_to(REPO)}, which does not exist"


def test_every_file_the_readme_names_exists():
    named = set(REPO_PATH.findall(README)) | set(TOP_LEVEL_FILE.findall(README))
    assert {"experiments/example_train.toml", "scripts/main.sh", "scripts/test.sh", "BENCHMARKS.md"} <= named
    missing = sorted(path for path in named if not (REPO / path).exists())
    assert not missing, f"README names files that do not exist: {missing}"


def test_readme_commands_parse_with_the_real_cli(monkeypatch):
    monkeypatch.chdir(REPO)
    parser = build_parser()
    assert len(README_COMMANDS) >= 15
    for argv in README_COMMANDS:
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            try:
                parser.parse_args(argv)
            except SystemExit:
                pytest.fail(f"README command 'freqprobe {shlex.join(argv)}' does not parse: {stderr.getvalue()}")


def test_readme_train_commands_build_valid_configurations(monkeypatch):
    from freqprobe.train.commands import config_from_args
    from freqprobe.sweeps.grid import check_names

    monkeypatch.chdir(REPO)
    parser = build_parser()
    built = 0
    for argv in README_COMMANDS:
        args = parser.parse_args(argv)
        if args.command != "train" or args.resume or args.list_models:  # --list-models builds no run
            continue
        config = config_from_args(args)
        check_names(config.to_dict(), set())  # unknown dataset, model or filter spec: ConfigError
        built += 1
    assert built >= 4


def test_the_example_train_config_is_a_short_valid_run():
    from freqprobe.train.config import config_from_toml

    config = config_from_toml(REPO / "experiments" / "example_train.toml")
    chosen = (config.dataset, config.model, config.filter, config.preset)
    assert chosen == ("fashion-mnist", "resnet20", "blur:2", "fast")
    assert config.epochs == 3 and config.lr == 0.2  # the file's own epochs over the preset's 11; the preset's lr


def test_readme_sweep_specs_expand_to_valid_runs(monkeypatch):
    from freqprobe.sweeps.grid import expand_grid
    from freqprobe.sweeps.spec import load_spec

    monkeypatch.chdir(REPO)
    specs = {argv[1] for argv in README_COMMANDS if argv[0] == "sweep"}
    assert specs == {"experiments/example_sweep.toml"}
    for spec in specs:
        assert len(expand_grid(load_spec(spec))) == 12


@pytest.mark.parametrize("command", sorted({argv[0] for argv in README_COMMANDS}))
def test_help_of_every_command_the_readme_uses(command, capsys):
    with pytest.raises(SystemExit) as exit_status:
        main([command, "--help"])
    assert exit_status.value.code == 0
    assert f"usage: freqprobe {command}" in capsys.readouterr().out


def test_data_info_prints_what_the_readme_shows(shared_data, monkeypatch, capsys):
    monkeypatch.setenv("FREQPROBE_DATA", str(shared_data))
    shown = next(block for block in code_blocks(README, "text") if "$ freqprobe data info" in block)
    command = next(line for line in shown.splitlines() if line.startswith("$ freqprobe data info"))
    assert main(shlex.split(command)[2:]) == 0
    printed = capsys.readouterr().out.splitlines()
    expected = [line for line in shown.splitlines() if not line.startswith(("$", "...", "source:"))]
    assert expected and all(line in printed for line in expected), (expected, printed)


def test_the_python_api_block_runs(shared_data, monkeypatch):
    block = next(block for block in code_blocks(README, "python") if "spectral_centroid" in block)
    namespace: dict = {}
    exec(block.replace('"../shared/data"', repr(str(shared_data))), namespace)
    centroids = namespace["centroids"]
    assert centroids.shape == (512,) and 0.0 < float(centroids.mean()) < 0.064  # blurred: below the raw 0.064


def test_the_run_api_block_runs_on_the_committed_run(shared_data, monkeypatch, capsys):
    """The README's "after training" block, run as written on results/fashion-mnist-resnet20-fast (200 test images),
    its numbers checked against the run's own records and against the functions' definitions."""
    import json

    import torch

    from freqprobe.tables import format_accuracy

    monkeypatch.chdir(REPO)
    block = next(block for block in code_blocks(README, "python") if "RunFolder(" in block)
    assert '"results/fashion-mnist-resnet20-fast"' in block
    namespace: dict = {}
    exec(block.replace('"../shared/data"', repr(str(shared_data))), namespace)
    run = REPO / "results" / "fashion-mnist-resnet20-fast"
    clean, noisy = namespace["clean_accuracy"], namespace["noisy_accuracy"]
    # 200 of the 10000 test images of a 93.56% model; noise costs accuracy but leaves it far above chance
    assert json.loads((run / "metrics.json").read_text())["test_accuracy"] == 0.9356
    assert 0.85 <= clean <= 1.0 and 0.1 < noisy <= clean
    assert capsys.readouterr().out.strip() == (
        f"clean {format_accuracy(clean)}, with Gaussian noise (std 0.1) {format_accuracy(noisy)}")
    bands = namespace["bands"]
    assert bands.clean_accuracy == pytest.approx(clean, abs=0.011)  # the same images (band ablation may use bf16)
    assert bands.exact_radii == ["1/28", "3/28", "1/4"]
    assert bands.low_pass_accuracy[0] < bands.low_pass_accuracy[-1]  # keeping more frequencies helps
    assert len(namespace["kernels"]["layers"]) == 19  # resnet20: stem + 18 block convolutions
    heat = namespace["heat"].to_dict()
    assert heat["evaluated_pairs"] == 3 and 0.0 <= heat["mean_error"] <= 1.0
    assert tuple(namespace["gradient"].power.shape) == (28, 28)
    assert 0.0 <= namespace["shift"].consistency <= 1.0
    attack = namespace["attack"]
    assert attack.robust_accuracy <= attack.clean_accuracy == pytest.approx(clean, abs=1e-9)
    spectrum = namespace["spectrum"]
    assert int(spectrum.counts.sum()) == 200 and len(spectrum.classes) == 10
    assert torch.equal(namespace["labels"], namespace["splits"].test.labels[:200])

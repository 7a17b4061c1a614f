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

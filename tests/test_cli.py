"""The command line loads every command module or fails loudly; a missing third-party package is one line."""

from __future__ import annotations

import pytest

from freqprobe import cli

EVERY_COMMAND = {
    "data", "spectrum", "preview", "train", "sweep", "reproduce", "filters", "sensitivity", "compare", "report",
    "features",
}  # fmt: skip

FAKE_COMMANDS = '''
def add_commands(subparsers):
    parser = subparsers.add_parser("needs-extra", help="a command whose handler needs an optional package")
    parser.set_defaults(handler=run)
    inner = subparsers.add_parser("needs-inner", help="a command whose handler imports a renamed freqprobe module")
    inner.set_defaults(handler=run_inner)


def run(args):
    import freqprobe_test_absent_package.sub  # noqa: F401
    return 0


def run_inner(args):
    import freqprobe.no_such_module  # noqa: F401
    return 0
'''


def subcommand_names(parser) -> set[str]:
    (subparsers,) = [action for action in parser._actions if action.dest == "command"]
    return set(subparsers.choices)


def test_the_parser_has_every_command():
    assert subcommand_names(cli.build_parser()) == EVERY_COMMAND


def test_a_missing_command_module_fails_loudly(monkeypatch):
    monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "freqprobe.analysis.renamed_commands"))
    with pytest.raises(ModuleNotFoundError, match="freqprobe.analysis.renamed_commands"):
        cli.build_parser()


def test_a_missing_sweep_or_reproduce_module_fails_loudly(monkeypatch):
    renamed = tuple(
        "freqprobe.sweeps.renamed_commands" if name == "freqprobe.sweeps.commands" else name for name in cli.COMMAND_MODULES
    )
    assert renamed != cli.COMMAND_MODULES, "sweep and reproduce are registered by freqprobe.sweeps.commands"
    monkeypatch.setattr(cli, "COMMAND_MODULES", renamed)
    with pytest.raises(ModuleNotFoundError, match="freqprobe.sweeps.renamed_commands"):
        cli.build_parser()


def test_a_command_module_without_add_commands_fails_loudly(monkeypatch):
    monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "freqprobe.errors"))
    with pytest.raises(AttributeError, match="add_commands"):
        cli.build_parser()


@pytest.fixture
def fake_commands(tmp_path, monkeypatch):
    (tmp_path / "freqprobe_test_fake_commands.py").write_text(FAKE_COMMANDS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "freqprobe_test_fake_commands"))


def test_a_command_needing_a_missing_package_appears_and_says_what_to_install(fake_commands, capsys):
    assert "needs-extra" in subcommand_names(cli.build_parser())
    assert cli.main(["needs-extra"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "freqprobe: error: the needs-extra command needs the Python package 'freqprobe_test_absent_package', "
        "which is not installed: pip install freqprobe_test_absent_package\n"
    )


def test_a_handler_missing_a_freqprobe_module_is_a_traceback_not_a_user_error(fake_commands):
    with pytest.raises(ModuleNotFoundError, match="freqprobe.no_such_module"):
        cli.main(["needs-inner"])


def test_pip_names_differ_from_import_names_where_known():
    missing = ModuleNotFoundError("No module named 'PIL'", name="PIL")
    assert cli.missing_package_message("preview", missing).endswith("pip install pillow")

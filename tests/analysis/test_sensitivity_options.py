"""Absurd numeric options of ``freqprobe sensitivity`` end in one line naming the option, before any run is read."""

from __future__ import annotations

import pytest

from freqprobe import cli


@pytest.mark.parametrize(
    "options, message",
    [
        (["--attack", "fgsm", "--eps", "1e308"], "attack eps (linf) 1e+308 is out of range; use a value in (0, 1]"),
        (["--attack", "fgsm", "--eps", "2"], "attack eps (linf) 2 is out of range; use a value in (0, 1]"),
        (["--attack", "pgd", "--norm", "l2", "--eps", "1e308"], "attack eps (l2) 1e+308 is out of range"),
        (["--attack", "pgd", "--eps", "0.1", "--step-size", "1e308"], "attack step size (linf) 1e+308 is out of range"),
        (["--attack", "pgd", "--eps", "0.1", "--steps", "1000000000"], "attack steps must be a whole number in [1, 100000]"),
        (["--attack", "fgsm", "--eps", "0.1", "--prefilter-sigma", "1e308"],
         "prefilter (--prefilter-sigma): sigma 1e+308 is out of range; use a value in (0, 4096] pixels"),
    ],
)
def test_absurd_attack_options_fail_in_one_line_before_the_run_is_read(tmp_path, capsys, options, message):
    missing_run = tmp_path / "no-run"
    assert cli.main(["sensitivity", str(missing_run), "--out", str(tmp_path / "out"), *options]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
    assert "config.json" not in error  # refused before the run folder is looked at

"""The ``>>>`` examples in the docstrings of ``src/freqprobe`` run and print what they show.

Only modules whose source holds an example are imported, so the suite does not pay for importing every module.
"""

from __future__ import annotations

import doctest
import importlib
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def module_name(path: Path, src: Path) -> str:
    parts = path.relative_to(src).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules_with_examples(src: Path, package: str) -> list[str]:
    """The modules under ``src/package`` whose source contains a ``>>>`` prompt, sorted."""
    files = sorted((src / package).rglob("*.py"))
    return [module_name(path, src) for path in files if ">>>" in path.read_text()]


def failed_examples(module_name: str) -> tuple[int, int, str]:
    """(failed, attempted, doctest's report) for the examples of ``module_name``."""
    module = importlib.import_module(module_name)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    report: list[str] = []
    failed = attempted = 0
    for test in doctest.DocTestFinder().find(module):
        result = runner.run(test, out=report.append)
        failed, attempted = failed + result.failed, attempted + result.attempted
    return failed, attempted, "".join(report)


@pytest.mark.parametrize("name", modules_with_examples(SRC, "freqprobe"))
def test_docstring_examples_run(name):
    failed, attempted, report = failed_examples(name)
    assert attempted > 0, f"{name} has '>>>' in its source but doctest found no example"
    assert failed == 0, report


def test_the_examples_the_brief_asks_for_are_there():
    names = modules_with_examples(SRC, "freqprobe")
    for module in ("freqprobe.filters.gaussian", "freqprobe.filters.fourier_filters", "freqprobe.spectra.power",
                   "freqprobe.spectra.centroid", "freqprobe.spectra.radial"):  # fmt: skip
        assert module in names


def test_a_wrong_example_is_reported(tmp_path, monkeypatch):
    package = tmp_path / "doctest_fake_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "wrong.py").write_text('def two():\n    """\n    >>> two()\n    3\n    """\n    return 2\n')
    (package / "plain.py").write_text("def three():\n    return 3\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "doctest_fake_pkg", raising=False)

    assert modules_with_examples(tmp_path, "doctest_fake_pkg") == ["doctest_fake_pkg.wrong"]
    failed, attempted, report = failed_examples("doctest_fake_pkg.wrong")
    assert (failed, attempted) == (1, 1)
    assert "Expected:\n    3\nGot:\n    2" in report

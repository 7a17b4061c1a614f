"""``--format png|pdf|svg``: real files of each format (magic bytes, the SVG parses as XML), chosen by one shared
option on every drawing command; attack budgets as written in titles and file names."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from freqprobe.cli import main
from freqprobe.errors import ConfigError
from freqprobe.plots.formats import FIGURE_FORMATS, figure_file
from freqprobe.plots.style import new_figure, paper_style, save_figure

REPO = Path(__file__).resolve().parents[2]
FASHION_RUN = REPO / "results" / "fashion-mnist-resnet20-fast"
SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"


def assert_format(path: Path, fmt: str) -> None:
    """``path`` is a real ``fmt`` file: PNG signature, a PDF header and end-of-file marker, or an SVG document."""
    data = path.read_bytes()
    if fmt == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    elif fmt == "pdf":
        assert data[:5] == b"%PDF-" and data.rstrip().endswith(b"%%EOF")
    else:
        root = ElementTree.fromstring(data)
        assert root.tag == f"{SVG_NAMESPACE}svg"
        assert root.find(f".//{SVG_NAMESPACE}path") is not None  # drawn content, not an empty document


@pytest.mark.parametrize("fmt", FIGURE_FORMATS)
def test_save_figure_writes_the_format_its_suffix_names(fmt, tmp_path):
    with paper_style():
        fig = new_figure(2.0, 1.5)
        fig.add_subplot().plot([0, 1], [1, 0])
        save_figure(fig, tmp_path / f"figure.{fmt}")
    assert_format(tmp_path / f"figure.{fmt}", fmt)
    assert [path.name for path in tmp_path.iterdir()] == [f"figure.{fmt}"]  # no temporaries left


def test_vector_files_carry_no_date_so_a_redraw_gives_the_same_bytes(tmp_path):
    for name in ("a.pdf", "b.pdf", "a.svg", "b.svg"):
        with paper_style():
            fig = new_figure(2.0, 1.5)
            fig.add_subplot().plot([0, 1], [1, 0])
            save_figure(fig, tmp_path / name)
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()


def test_an_unknown_suffix_or_format_is_one_line_naming_the_choices(tmp_path):
    with pytest.raises(ConfigError, match="unknown figure format 'jpg'; valid: png, pdf, svg"):
        save_figure(new_figure(1.0, 1.0), tmp_path / "figure.jpg")
    with pytest.raises(ConfigError, match="valid: png, pdf, svg"):
        figure_file("band_ablation.png", "eps")


def test_every_drawing_command_takes_the_same_format_option(capsys):
    commands = ["spectrum", "preview", "filters", "sensitivity", "compare", "train", "sweep", "reproduce"]
    for command in commands:
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "--format {png,pdf,svg}" in text, command
        assert "vector pdf / svg" in text, command


def test_filters_command_writes_svg_figures(tmp_path, capsys):
    out = tmp_path / "kernels"
    assert main(["filters", str(FASHION_RUN), "--out", str(out), "--no-singular-values", "--format", "svg"]) == 0
    figures = sorted(path.name for path in out.iterdir() if path.name != "filters.json")
    assert figures == sorted([
        "kernel_centroid_histograms.svg", "kernel_high_frequency_histograms.svg", "kernel_orientation_histograms.svg",
        "kernel_radial_profiles.svg", "first_layer_kernels.svg",
    ])
    for name in figures:
        assert_format(out / name, "svg")
    assert f"wrote {out / 'first_layer_kernels.svg'}" in capsys.readouterr().out


def test_sensitivity_writes_pdf_figures_and_names_the_attack_by_its_budget_as_written(shared_data, tmp_path):
    out = tmp_path / "sensitivity"
    common = [str(FASHION_RUN), "--out", str(out), "--subset", "10", "--quiet", "--data-dir", str(shared_data)]
    assert main(["sensitivity", *common, "--shift", "--format", "pdf"]) == 0
    assert main(["sensitivity", *common, "--attack", "fgsm", "--eps", "8/255", "--prefilter-sigma", "0",
                 "--format", "pdf"]) == 0
    document = json.loads((out / "sensitivity.json").read_text())
    assert list(document["attacks"]) == ["fgsm-linf-eps8/255"]
    assert document["figures"] == {
        "shift": "shift_consistency.pdf", "attack:fgsm-linf-eps8/255": "attack_fgsm-linf-eps8over255.pdf",
    }
    for name in document["figures"].values():
        assert_format(out / name, "pdf")
    # the same attack with the budget written as a decimal replaces the entry instead of listing it twice
    assert main(["sensitivity", *common, "--attack", "fgsm", "--eps", str(8 / 255), "--prefilter-sigma", "0"]) == 0
    document = json.loads((out / "sensitivity.json").read_text())
    assert list(document["attacks"]) == [f"fgsm-linf-eps{8 / 255!r}"]
    assert document["figures"][f"attack:fgsm-linf-eps{8 / 255!r}"] == "attack_fgsm-linf-eps0.03137254901960784.png"


def test_train_draws_the_learning_curve_at_the_end(shared_data, tmp_path, capsys):
    run = tmp_path / "run"
    assert main([
        "train", "--dataset", "fashion-mnist", "--data-dir", str(shared_data), "--out", str(run), "--epochs", "2",
        "--subset", "64", "--batch-size", "32", "--limit-eval", "50", "--no-progress", "--format", "svg",
    ]) == 0
    assert_format(run / "learning_curve.svg", "svg")
    assert f"wrote {run / 'learning_curve.svg'}" in capsys.readouterr().out

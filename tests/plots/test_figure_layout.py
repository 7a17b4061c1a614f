"""Every figure kind freqprobe draws, rendered from small real inputs (the committed results under results/, real
Fashion-MNIST and CIFAR-10 (JPEG q75 copy) images), passes the layout check: no text cut by the figure edge, no two
texts overlapping, no legend over a title or label (freqprobe.plots.layout)."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest
import torch

from freqprobe.plots.layout import checking_saved_figures, drawn_texts, layout_problems, rectangles_overlap
from freqprobe.plots.style import new_figure, paper_style

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "results"
FASHION_RUN = RESULTS / "fashion-mnist-resnet20-fast"
CIFAR_RUN = RESULTS / "cifar10-jpeg-resnet20-fast"
ANTIALIAS_RUN = RESULTS / "fashion-mnist-resnet20-fast-antialias"
COMPARES = [RESULTS / "reproduce-fashion-mnist-resnet20-fast" / "compare", RESULTS / "bandpass" / "compare"]
SWEEPS = [RESULTS / "reproduce-fashion-mnist-resnet20-fast", RESULTS / "bandpass" / "conv"]


def assert_clean(found: dict[str, list[str]], expected: int | None = None) -> None:
    """Every saved figure free of layout problems; ``expected``: how many figures must have been saved."""
    problems = [f"{Path(path).name}: {problem}" for path, lines in found.items() for problem in lines]
    assert not problems, "\n".join(problems)
    if expected is not None:
        assert len(found) == expected, sorted(Path(path).name for path in found)


# ----------------------------------------------------------------------------------------- the checker itself


def test_the_checker_finds_a_clipped_title_overlapping_labels_and_a_legend_over_the_title():
    with paper_style():
        clipped = new_figure(2.0, 1.5)
        clipped.add_subplot().set_title("a title far wider than a figure two inches across can show")
        assert [line.split(":")[0] for line in layout_problems(clipped)] == ["clipped"]

        crowded = new_figure(3.0, 2.0)
        ax = crowded.add_subplot()
        ax.set_xticks([0.0, 0.05, 0.1], ["a long tick label", "another long one", "third"])
        problems = layout_problems(crowded)
        assert "overlap: 'a long tick label' and 'another long one'" in problems
        assert all(line.startswith("overlap:") for line in problems)

        covered = new_figure(4.0, 3.0)
        ax = covered.add_subplot()
        ax.set_title("the title")
        ax.plot([0, 1], [0, 1], label="a line")
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 0.98))
        assert "legend covers 'the title'" in layout_problems(covered)


def test_the_checker_passes_a_clean_figure_and_rotated_labels_that_do_not_touch():
    with paper_style():
        fig = new_figure(4.0, 3.0)
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], label="line")
        ax.legend(loc="lower right")
        ax.set_title("a short title")
        # axis-aligned boxes of these 60-degree labels intersect; the rotated rectangles do not
        ax.set_xticks([k / 7 for k in range(8)], [f"label number {k}" for k in range(8)], rotation=60, ha="right")
        assert layout_problems(fig) == []
        texts, _ = drawn_texts(fig)
        ticks = [text for text in texts if text.artist.get_text().startswith("label number")]
        assert len(ticks) == 8
        boxes_touch = any(
            min(a.box[2], b.box[2]) > max(a.box[0], b.box[0]) for a, b in zip(ticks, ticks[1:])
        )
        assert boxes_touch and not any(rectangles_overlap(a, b) for a, b in zip(ticks, ticks[1:]))


def test_the_saving_hook_checks_each_saved_figure_and_is_removed_after(tmp_path):
    from matplotlib.figure import Figure

    from freqprobe.plots.style import save_figure

    original = Figure.savefig
    with paper_style(), checking_saved_figures() as found:
        fig = new_figure(2.0, 1.5)
        fig.add_subplot().set_title("a title far wider than a figure two inches across can show")
        save_figure(fig, tmp_path / "clipped.png")
    assert Figure.savefig is original
    assert [Path(path).name for path in found] == ["clipped.png"]
    assert found[next(iter(found))][0].startswith("clipped:")


# ------------------------------------------------------------------------------------------ dataset figures


@pytest.fixture(scope="module")
def fashion_test(shared_data):
    from freqprobe.data import load_dataset

    return load_dataset("fashion-mnist", train=False, root=shared_data)


@pytest.fixture(scope="module")
def cifar_copy(shared_data, tmp_path_factory):
    """20 train and 10 test images per class of the shared JPEG archive, unpacked as a folder named like it
    (``cifar10-jpeg``), so titles carry the "CIFAR-10 (JPEG q75 copy)" label."""
    root = tmp_path_factory.mktemp("data") / "cifar10-jpeg"
    limits = {"train": 20, "test": 10}
    counts: dict[tuple[str, str], int] = {}
    with tarfile.open(shared_data / "cifar10-jpeg.tar.gz", mode="r|gz") as archive:
        for member in archive:
            parts = member.name.split("/")
            if not member.isfile() or len(parts) != 3 or parts[0] not in limits:
                continue
            key = (parts[0], parts[1])
            if counts.get(key, 0) < limits[parts[0]]:
                counts[key] = counts.get(key, 0) + 1
                target = root / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.extractfile(member).read())
    assert len(counts) == 20 and set(counts.values()) == {10, 20}
    from freqprobe.data import load_splits

    return load_splits(f"folder:{root}", val_fraction=0.1, seed=0)


def dataset_images(name, fashion_test, cifar_copy, count=300):
    if name == "fashion-mnist":
        data = fashion_test.select(torch.arange(count))
        return data, None
    from freqprobe.data.labels import data_note

    data = cifar_copy.test
    return data, data_note(data.name, data.source)


@pytest.mark.parametrize("name", ["fashion-mnist", "cifar10-jpeg"])
def test_dataset_spectrum_figures(name, fashion_test, cifar_copy, tmp_path):
    from freqprobe.filters import build_filter
    from freqprobe.plots.spectra import write_spectrum_figures, write_windowed_class_spectra
    from freqprobe.plots.style import describe
    from freqprobe.spectra import compute_dataset_spectrum

    data, note = dataset_images(name, fashion_test, cifar_copy)
    blur = build_filter("highpass:2")
    with checking_saved_figures() as found:
        for transform, window in ((None, None), (blur, "hamming")):
            result = compute_dataset_spectrum(
                data.images, data.labels, data.classes, transform=transform, window=window
            )
            title = describe(data.name, "test", transform.spec if transform else "none", note, window)
            write_spectrum_figures(result, title, tmp_path / (window or "plain"))
        write_windowed_class_spectra(result, title, tmp_path)
    assert_clean(found, expected=9)


@pytest.mark.parametrize("name", ["fashion-mnist", "cifar10-jpeg"])
def test_preview_figure(name, fashion_test, cifar_copy, tmp_path):
    from freqprobe.data import to_float
    from freqprobe.filters import build_filter
    from freqprobe.plots.preview import plot_preview
    from freqprobe.plots.style import describe
    from freqprobe.spectra.examples import one_per_class

    data, note = dataset_images(name, fashion_test, cifar_copy)
    indices = one_per_class(data.labels, 10)
    originals = to_float(data.images[indices])
    specs = ["blur:2", "highpass:12", "band:0.1:0.3", "logmag"]
    with torch.no_grad():
        filtered = {spec: build_filter(spec)(originals) for spec in specs}
    names = [data.classes[int(label)] for label in data.labels[indices]]
    with checking_saved_figures() as found:
        title = describe(data.name, "test", ", ".join(specs), note)
        plot_preview(originals, filtered, names, title, tmp_path / "p.png")
    assert_clean(found, expected=1)


# ----------------------------------------------------------------------------------- figures of trained runs


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("run", [FASHION_RUN, CIFAR_RUN, ANTIALIAS_RUN], ids=lambda path: path.name)
def test_sensitivity_figures_of_committed_runs(run, tmp_path):
    from freqprobe.plots.sensitivity import write_sensitivity_figures

    document = read(run / "analysis" / "sensitivity.json")
    with checking_saved_figures() as found:
        written = write_sensitivity_figures(document, tmp_path)
    sections = [name for name in ("bands", "heatmap", "gradient_spectrum", "shift") if name in document]
    assert len(written) == len(sections) + len(document.get("attacks", {}))
    assert_clean(found, expected=len(written))


@pytest.mark.parametrize("run", [FASHION_RUN, CIFAR_RUN], ids=lambda path: path.name)
def test_kernel_figures_of_committed_runs(run, tmp_path):
    from freqprobe.analysis.model_source import conv_layers, load_model_source
    from freqprobe.plots.kernels import FIGURE_FILES, write_kernel_figures

    result = read(run / "analysis" / "filters.json")
    weight = conv_layers(load_model_source(str(run)).model)[0][1].weight
    with checking_saved_figures() as found:
        written = write_kernel_figures(result, weight, tmp_path)
    assert sorted(path.name for path in written.values()) == sorted(FIGURE_FILES.values())
    assert_clean(found, expected=len(FIGURE_FILES))


def test_kernel_comparison_and_history_figures(tmp_path):
    """``filters RUN --compare RUN2`` (outlines of the other model) and the kernel statistics over epochs."""
    from freqprobe.analysis.kernels import KernelStatsCallback, analyze_kernels
    from freqprobe.analysis.model_source import conv_layers, load_model_source
    from freqprobe.plots.kernel_history import plot_kernel_history
    from freqprobe.plots.kernels import write_kernel_figures

    source = load_model_source(str(FASHION_RUN))
    other = load_model_source(str(ANTIALIAS_RUN))
    result = analyze_kernels(source, compare=other, singular_values=False)
    result["source"], result["comparison"]["source"] = FASHION_RUN.name, ANTIALIAS_RUN.name
    tracker = KernelStatsCallback()
    history = [tracker(epoch, model.model) for epoch, model in enumerate((other, source))]
    with checking_saved_figures() as found:
        write_kernel_figures(result, conv_layers(source.model)[0][1].weight, tmp_path)
        plot_kernel_history(history, f"resnet20 · {FASHION_RUN.name} · 2 epochs", tmp_path / "history.png")
    assert_clean(found, expected=6)  # 5 kernel figures (no singular values) + the history


@pytest.mark.parametrize("folder", COMPARES, ids=lambda path: path.parent.name)
def test_compare_figures_of_committed_comparisons(folder, tmp_path):
    from freqprobe.analysis.compare.table import comparison_from_dict
    from freqprobe.plots.compare import write_compare_figures

    data = read(folder / "compare.json")
    with checking_saved_figures() as found:
        written = write_compare_figures(comparison_from_dict(data), tmp_path)
    assert sorted(written) == sorted(data["figures"])
    assert_clean(found, expected=len(written))


def test_band_matrix_figure_from_committed_models_on_real_bands(fashion_test, tmp_path):
    """The train band x test band matrix figure, filled with the accuracies of the two committed unfiltered
    Fashion-MNIST models (plain and antialiased) on 100 real test images passed through each band (the committed
    results hold no band sweep)."""
    from freqprobe.analysis.compare.band_matrix import BandMatrix, model_accuracy
    from freqprobe.filters import apply_in_batches, build_filter
    from freqprobe.plots.compare import plot_band_matrix
    from freqprobe.runs import RunFolder

    test = fashion_test.select(torch.arange(100))
    bands = ["none", "band:0:0.0625", "band:0.0625:0.125", "band:0.125:0.25", "band:0.25:0.5", "band:0.5:0.71"]
    images = {spec: apply_in_batches(build_filter(spec), test.images) for spec in bands}
    rows = []
    for run in (FASHION_RUN, ANTIALIAS_RUN):
        model = RunFolder(run).load_model()
        rows.append([model_accuracy(model, images[spec], test.labels) for spec in bands])
    matrix = BandMatrix("fashion-mnist", "resnet20", ["none", "none, antialias"], bands, rows, [1, 1], 100)
    with checking_saved_figures() as found:
        plot_band_matrix(matrix, tmp_path / "band_matrix.png")
    assert_clean(found, expected=1)


def test_learning_curves_of_a_run_and_of_sweeps(tmp_path):
    from freqprobe.plots.learning_curve import draw_run_learning_curve, draw_sweep_learning_curves

    with checking_saved_figures() as found:
        for run in (FASHION_RUN, CIFAR_RUN):
            copy = tmp_path / run.name
            shutil.copytree(run, copy, ignore=shutil.ignore_patterns("analysis", "*.html", "*.safetensors"))
            assert draw_run_learning_curve(copy) == copy / "learning_curve.png"
        for sweep in SWEEPS:
            runs = sorted((sweep / "runs").iterdir())
            out = tmp_path / sweep.name
            assert draw_sweep_learning_curves(out, runs) == out / "learning_curves.png"
    assert_clean(found, expected=4)

"""``freqprobe compare`` as a whole on a sweep folder in the real format (real Fashion-MNIST images, real ResNet-20
weights) against direct evaluations."""

from __future__ import annotations

import csv
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import stats
from sensitivity_documents import BANDS, heat_map_with_one_bad_frequency

from freqprobe.analysis import compare as C
from freqprobe.errors import ConfigError, FreqprobeError

SUBSET = 150  # training images for the input centroids, test images for the band matrix
FIT_IMAGES = 200  # training images each fake run's classifier is fitted on
LOW, HIGH = "band:0:0.2", "band:0.2:0.75"


def class_mean_model(train_images: torch.Tensor, labels: torch.Tensor, spec: str, seed: int):
    """A ResNet-20 with random convolutions whose BatchNorm statistics and linear classifier (nearest class mean of
    the pooled features) are fitted on filtered training images: no training loop, yet clearly above chance on the
    band it saw and near chance elsewhere, which a band matrix must show."""
    from freqprobe.data import to_float
    from freqprobe.filters import build_filter, channel_stats
    from freqprobe.models import create_model

    torch.manual_seed(seed)
    input_filter = build_filter(spec)
    mean, std = channel_stats(input_filter, train_images)
    model = create_model("resnet20", in_channels=1)
    model.set_normalization(mean, std)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # cumulative average over the one calibration pass
    features: dict[str, torch.Tensor] = {}
    hook = model.fc.register_forward_hook(lambda _module, inputs, _output: features.update(x=inputs[0]))
    x = input_filter(to_float(train_images))
    with torch.no_grad():
        model.train()(x)
        model.eval()(x)
        hook.remove()
        means = torch.stack([features["x"][labels == k].mean(dim=0) for k in range(10)])
        model.fc.weight.copy_(means)
        model.fc.bias.copy_(-0.5 * (means * means).sum(dim=1))
    return model


def write_run(folder: Path, spec: str, seed: int, model, data_dir: Path, test_accuracy: float) -> None:
    from freqprobe.io import atomic_write_json
    from freqprobe.models import save_weights

    config = {
        "dataset": "fashion-mnist", "model": "resnet20", "filter": spec, "boundary": "circular", "seed": seed,
        "epochs": 1, "val_fraction": 0.2, "split_seed": 0, "data_dir": str(data_dir), "antialias": False,
        "subset": FIT_IMAGES,
    }
    atomic_write_json(folder / "config.json", {
        "config": config,
        "filter": {"spec": spec, "boundary": "circular", "fitted_on": None},
        "data": {"image_shape": [1, 28, 28], "classes": [str(k) for k in range(10)], "source": str(data_dir)},
    })
    save_weights(model, folder / "model.safetensors")
    atomic_write_json(folder / "metrics.json", {
        "test_accuracy": test_accuracy, "val_accuracy": test_accuracy - 0.01, "epochs": 1, "train_seconds": 1.0,
        "dataset": "fashion-mnist", "model": "resnet20", "filter": spec, "seed": seed,
    })


# Hand-made filters.json layers for two runs: the table must take them as they are.
FILE_LAYERS = {
    "none": [
        {"name": "stem", "spectral_centroid_mean": 0.31, "high_frequency_ratio": 0.4, "spectral_norm": 2.5},
        {"name": "layer1.0.conv1", "spectral_centroid_mean": 0.35, "high_frequency_ratio": 0.5, "spectral_norm": 3.0},
        {"name": "layer2.0.conv1", "spectral_centroid_mean": 0.25, "high_frequency_ratio": 0.2, "spectral_norm": 3.0,
         "aliasing_share": 0.3},
        {"name": "layer2.0.shortcut", "spectral_centroid_mean": 0.2, "high_frequency_ratio": 0.9, "spectral_norm": 1.0,
         "aliasing_share": 0.1, "spatially_flat": True},
    ],
    HIGH: [
        {"name": "stem", "spectral_centroid_mean": 0.42, "high_frequency_ratio": 0.7, "spectral_norm": 1.5},
        {"name": "layer1.0.conv1", "spectral_centroid_mean": 0.33, "high_frequency_ratio": None, "spectral_norm": 2.0},
    ],
}
RUNS = [("none", 0, 0.80), (LOW, 0, 0.60), (LOW, 1, 0.62), (HIGH, 0, 0.55)]


@pytest.fixture(scope="module")
def sweep(shared_data, tmp_path_factory):
    """``SWEEP/runs/<name>/`` for four complete runs and one unfinished one, plus their training/test images."""
    from freqprobe.data import load_splits
    from freqprobe.io import atomic_write_json
    from freqprobe.train.prepare import stratified_first

    root = tmp_path_factory.mktemp("sweep")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FREQPROBE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        splits = load_splits("fashion-mnist", root=shared_data)
    train = splits.train.select(stratified_first(splits.train.labels, FIT_IMAGES))
    for spec, seed, accuracy in RUNS:
        folder = root / "runs" / f"fashion-mnist__resnet20__{spec.replace(':', '-')}__seed{seed}"
        model = class_mean_model(train.images, train.labels, spec, seed)
        write_run(folder, spec, seed, model, shared_data, accuracy)
        if spec in FILE_LAYERS and seed == 0:
            atomic_write_json(folder / "analysis" / "filters.json", {"model": "resnet20", "layers": FILE_LAYERS[spec]})
    # a folder with neither config.json nor metrics.json is not a run: skipped without a note
    atomic_write_json(root / "runs" / "not-a-run" / "analysis" / "sensitivity.json", {})
    none_run = root / "runs" / "fashion-mnist__resnet20__none__seed0"
    atomic_write_json(none_run / "analysis" / "sensitivity.json", {
        "run": str(none_run), "bands": BANDS, "heatmap": heat_map_with_one_bad_frequency(),
        "attacks": {"fgsm-linf-eps0.007843": {"robust_accuracy": 0.25}},
    })
    unfinished = root / "runs" / "fashion-mnist__resnet20__blur-2__seed0"
    unfinished.mkdir(parents=True)
    (unfinished / "config.json").write_text(json.dumps({"config": {"dataset": "fashion-mnist", "filter": "blur:2"}}))
    return root, splits


@pytest.fixture(scope="module")
def compared(sweep, tmp_path_factory):
    """compare_sweep + write_comparison on the fake sweep: (comparison, output folder, stderr log)."""
    root, _ = sweep
    out = tmp_path_factory.mktemp("compare")
    messages: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FREQPROBE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        comparison = C.compare_sweep(root, subset=SUBSET, log=messages.append)
        C.write_comparison(comparison, out)
    return comparison, out, messages


def rows_by_run(comparison) -> dict[str, dict]:
    return {(row["filter"], row["seed"]): row for row in comparison.rows}


def numpy_centroid_mean(images_float: np.ndarray) -> float:
    """Mean over images of sum |f| P / sum P on the full FFT grid (one channel), written with numpy only."""
    power = np.abs(np.fft.fft2(images_float[:, 0].astype(np.float64))) ** 2
    height, width = power.shape[-2:]
    radius = np.hypot(*np.meshgrid(np.fft.fftfreq(height), np.fft.fftfreq(width), indexing="ij"))
    return float(((power * radius).sum(axis=(1, 2)) / power.sum(axis=(1, 2))).mean())


def numpy_kernel_centroids(weight: np.ndarray, grid: int = 32) -> float:
    """Mean over the (out, in) kernels of their power centroid on a zero-padded grid x grid FFT."""
    power = np.abs(np.fft.fft2(weight.reshape(-1, *weight.shape[-2:]), s=(grid, grid))) ** 2
    radius = np.hypot(*np.meshgrid(np.fft.fftfreq(grid), np.fft.fftfreq(grid), indexing="ij"))
    return float(((power * radius).sum(axis=(1, 2)) / power.sum(axis=(1, 2))).mean())


def test_only_complete_runs_are_compared(compared):
    comparison, _, _ = compared
    assert sorted((row["filter"], row["seed"]) for row in comparison.rows) == sorted((s, d) for s, d, _ in RUNS)
    assert any("blur-2" in note and "incomplete" in note for note in comparison.notes)


def test_accuracy_columns_come_from_metrics_json(compared):
    rows = rows_by_run(compared[0])
    for spec, seed, accuracy in RUNS:
        assert rows[(spec, seed)]["clean_accuracy"] == accuracy
        assert rows[(spec, seed)]["val_accuracy"] == pytest.approx(accuracy - 0.01)


def test_input_centroid_and_slope_equal_numpy_on_the_filtered_training_subset(compared, sweep):
    from freqprobe.data import to_float
    from freqprobe.filters import build_filter
    from freqprobe.train.prepare import stratified_first

    _, splits = sweep
    rows = rows_by_run(compared[0])
    subset = splits.train.select(stratified_first(splits.train.labels, SUBSET))
    for spec in ("none", LOW, HIGH):
        filtered = build_filter(spec)(to_float(subset.images)).numpy()
        assert rows[(spec, 0)]["input_centroid"] == pytest.approx(numpy_centroid_mean(filtered), rel=1e-5)
        assert rows[(spec, 0)]["input_slope"] == pytest.approx(numpy_radial_slope(filtered), rel=1e-4)
    assert rows[(LOW, 1)]["input_centroid"] == rows[(LOW, 0)]["input_centroid"]  # one value per variant
    assert rows[(LOW, 0)]["input_centroid"] < rows[("none", 0)]["input_centroid"] < rows[(HIGH, 0)]["input_centroid"]


def numpy_radial_slope(images_float: np.ndarray) -> float:
    """scipy's least-squares line through log mean power against log |f|, annuli of width 1/side centred on k/side
    (DC and |f| > 1/2 left out), written with numpy and scipy only."""
    from scipy import stats

    power = (np.abs(np.fft.fft2(images_float[:, 0].astype(np.float64))) ** 2).mean(axis=0)
    side = power.shape[-1]
    radius = np.hypot(*np.meshgrid(np.fft.fftfreq(side), np.fft.fftfreq(side), indexing="ij"))
    ring = np.floor(radius * side + 0.5 + 1e-9).astype(int)
    means = {k: power[ring == k].mean() for k in range(0, side // 2 + 1) if (ring == k).any()}
    peak = max(means.values())
    rings = [k for k, value in means.items() if k > 0 and value > 1e-10 * peak]  # round-off floor left out
    profile = [means[k] for k in rings]
    return float(stats.linregress(np.log(np.array(rings) / side), np.log(profile)).slope)


def test_the_slope_leaves_out_the_round_off_a_blur_leaves_so_stronger_blurs_rank_lower(shared_data):
    from freqprobe.analysis.compare.data import input_slope
    from freqprobe.data import load_dataset, to_float
    from freqprobe.filters import build_filter
    from freqprobe.spectra import compute_dataset_spectrum

    test = load_dataset("fashion-mnist", train=False, root=shared_data)
    images, labels = test.images[:200], test.labels[:200]
    slopes = [input_slope(compute_dataset_spectrum(images, labels, test.classes, transform=build_filter(spec))
                          .overall_mean_power()) for spec in ("none", "blur:1", "blur:2", "blur:4")]
    assert slopes[0] == pytest.approx(-2.5, abs=0.2)  # Fashion-MNIST's own slope, as freqprobe spectrum reports
    assert slopes[0] > slopes[1] > slopes[2] > slopes[3]


def test_kernel_columns_from_filters_json_or_computed(compared, sweep):
    from safetensors.torch import load_file

    root, _ = sweep
    rows = rows_by_run(compared[0])
    none = rows[("none", 0)]
    assert none["kernel_centroid_first"] == 0.31
    assert none["kernel_centroid_mean"] == pytest.approx((0.31 + 0.35 + 0.25) / 3)  # the 1x1 shortcut left out
    assert none["kernel_hf_ratio_first"] == 0.4 and none["spectral_norm_first"] == 2.5
    assert none["kernel_hf_ratio_mean"] == pytest.approx((0.4 + 0.5 + 0.2) / 3)
    assert none["kernel_aliasing_mean"] == pytest.approx(0.3)  # the strided 1x1 shortcut's share is its grid's
    assert none["spectral_norm_mean"] == pytest.approx((2.5 + 3.0 + 3.0 + 1.0) / 4)  # a 1x1 layer's gain counts
    assert rows[(HIGH, 0)]["kernel_aliasing_mean"] is None  # no strided layer: no share, not 0
    assert rows[(HIGH, 0)]["kernel_hf_ratio_mean"] == pytest.approx(0.7)  # a layer without the number is skipped
    assert none["kernel_source"].endswith("analysis/filters.json")
    assert rows[(HIGH, 0)]["kernel_centroid:layer1.0.conv1"] == 0.33
    computed = rows[(LOW, 1)]
    assert computed["kernel_source"] == "computed (analyze_kernels)"
    weights = load_file(str(root / "runs" / computed["run"] / "model.safetensors"))
    assert computed["kernel_centroid_first"] == pytest.approx(numpy_kernel_centroids(weights["stem.weight"].numpy()))
    layer_columns = [key for key in computed if key.startswith(C.LAYER_PREFIX)]
    assert len(layer_columns) == 19  # ResNet-20: stem + 9 blocks x 2 convolutions (option A: no 1x1 projections)
    expected_mean = np.mean([numpy_kernel_centroids(weights[f"{name.removeprefix(C.LAYER_PREFIX)}.weight"].numpy())
                             for name in layer_columns])
    assert computed["kernel_centroid_mean"] == pytest.approx(expected_mean)


def test_sensitivity_columns_only_where_a_run_has_them(compared):
    rows = rows_by_run(compared[0])
    none = rows[("none", 0)]
    assert none["lowpass_r50"] == pytest.approx(0.1625)
    assert none["robust_accuracy"] == 0.25
    assert none["heatmap_centroid"] == pytest.approx(math.hypot(1 / 8, 2 / 8))
    assert rows[(LOW, 0)].get("robust_accuracy") is None and rows[(LOW, 0)].get("lowpass_auc") is None


def variant_means(comparison, column):
    """Each variant's mean of ``column`` over its runs, recomputed from the rows (filter order of the variants)."""
    return [np.mean([row[column] for row in comparison.rows if row["filter"] == variant.identity["filter"]])
            for variant in comparison.variants]


def test_correlations_are_spearman_over_the_variants_means(compared):
    comparison, _, _ = compared
    x = variant_means(comparison, "input_centroid")
    y = variant_means(comparison, "clean_accuracy")
    entry = comparison.correlations["input_centroid"]["clean_accuracy"]
    assert entry["n"] == 3 and sorted(entry["seeds_per_variant"]) == [1, 1, 2]  # none, LOW (2 seeds), HIGH
    assert entry["rho"] == pytest.approx(stats.spearmanr(x, y).statistic)
    # exact permutation p over the 3! pairings, enumerated here: two-sided as twice the smaller tail
    null = [stats.spearmanr(x, [y[i] for i in order]).statistic for order in itertools.permutations(range(3))]
    tails = (np.mean([r >= entry["rho"] - 1e-12 for r in null]), np.mean([r <= entry["rho"] + 1e-12 for r in null]))
    assert entry["p_exact"] and entry["p_value"] == pytest.approx(min(1.0, 2 * min(tails)))
    # robust accuracy exists for one run only: undefined, not a crash
    assert comparison.correlations["input_centroid"]["robust_accuracy"]["rho"] is None
    assert comparison.correlations["input_centroid"]["robust_accuracy"]["n"] == 1
    layer = next(item for item in comparison.layer_correlations if item["layer"] == "stem")
    stems = variant_means(comparison, "kernel_centroid:stem")
    assert layer["rho"] == pytest.approx(stats.spearmanr(x, stems).statistic)


def test_paired_differences_against_the_unfiltered_variant(compared):
    comparison, out, _ = compared
    assert comparison.baseline == "none"  # the default: an unfiltered run exists
    entry = next(item for item in comparison.paired_differences
                 if item["variant"] == LOW and item["column"] == "clean_accuracy")
    assert entry["seeds"] == [0] and entry["n"] == 1 and entry["ci_low"] is None  # only seed 0 has both
    assert entry["mean"] == pytest.approx(0.60 - 0.80)
    markdown = (out / C.COMPARE_MD).read_text()
    assert f"- Fashion-MNIST: {LOW} - none: -20.00 points, n = 1 (no interval)" in markdown
    with open(out / "variants.csv", newline="") as handle:
        lines = [line for line in csv.DictReader(handle) if line["variant"] == LOW]
    clean = next(line for line in lines if line["column"] == "clean_accuracy")
    low, high = stats.ttest_1samp([0.60, 0.62], 0.0).confidence_interval(0.95)
    assert (float(clean["ci_low"]), float(clean["ci_high"])) == pytest.approx((low, high))
    assert clean["ci_method"] == "Student-t" and clean["n"] == "2" and clean["baseline"] == "none"
    assert float(clean["difference_mean"]) == pytest.approx(-0.2) and clean["difference_ci_low"] == ""


def direct_accuracy(run_folder: Path, images_uint8: torch.Tensor, labels: torch.Tensor, spec: str) -> float:
    """The model of ``run_folder`` on test images through ``spec``, loaded and evaluated without compare's code."""
    from freqprobe.data import to_float
    from freqprobe.filters import band_pass
    from freqprobe.models import create_model, load_weights

    model = load_weights(create_model("resnet20", in_channels=1), run_folder / "model.safetensors").eval()
    x = to_float(images_uint8)
    if spec != "none":
        low, high = (float(edge) for edge in spec.split(":")[1:])
        x = band_pass(x, low, high)
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == labels).double().mean())


def test_band_matrix_equals_direct_evaluation(compared, sweep):
    from freqprobe.train.prepare import stratified_first

    comparison, _, _ = compared
    root, splits = sweep
    test = splits.test.select(stratified_first(splits.test.labels, SUBSET))
    (matrix,) = comparison.band_matrices
    assert matrix.train_filters == ["none", LOW, HIGH]
    assert matrix.test_filters == ["none", LOW, HIGH]
    assert matrix.runs == [1, 2, 1]
    assert matrix.n_images == SUBSET
    runs = {(row["filter"], row["seed"]): root / "runs" / row["run"] for row in comparison.rows}
    for i, train_filter in enumerate(matrix.train_filters):
        seeds = [seed for spec, seed, _ in RUNS if spec == train_filter]
        for j, test_filter in enumerate(matrix.test_filters):
            expected = np.mean([direct_accuracy(runs[(train_filter, s)], test.images, test.labels, test_filter)
                                for s in seeds])
            assert matrix.accuracy[i][j] == pytest.approx(expected, abs=1e-12)
    values = np.array(matrix.accuracy)
    # a model fitted on one band classifies that band better than the other band
    assert values[1, 1] > values[1, 2] + 0.05 and values[2, 2] > values[2, 1] + 0.05


def test_output_files(compared, sweep):
    comparison, out, _ = compared
    root, _ = sweep
    with open(out / C.COMPARE_CSV, newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [row["run"] for row in table] == [row["run"] for row in comparison.rows]
    for written, row in zip(table, comparison.rows):
        assert float(written["input_centroid"]) == row["input_centroid"]
        assert float(written["clean_accuracy"]) == row["clean_accuracy"]
        assert written["robust_accuracy"] == ("" if row.get("robust_accuracy") is None else "0.25")
    with open(out / C.BAND_MATRIX_CSV, newline="") as handle:
        matrix_rows = list(csv.DictReader(handle))
    (matrix,) = comparison.band_matrices
    assert [row["train_filter"] for row in matrix_rows] == matrix.train_filters
    for written, values in zip(matrix_rows, matrix.accuracy):
        assert [float(written[spec]) for spec in matrix.test_filters] == values
    markdown = (out / C.COMPARE_MD).read_text()
    assert "## Spearman rank correlations across variants" in markdown and "Train band x test band accuracy" in markdown
    assert "3 variants x 1-2 seeds" in markdown
    assert "4 complete runs on Fashion-MNIST" in markdown
    assert markdown.startswith(f"# Links across the runs of {root.name}\n") and str(root) not in markdown
    saved = json.loads((out / C.COMPARE_JSON).read_text())
    assert saved["band_matrices"][0]["accuracy"] == matrix.accuracy
    expected_figures = {"depth_profiles", "scatter_strongest_link", "scatter_input_centroid", "scatter_kernel_centroid",
                        "correlations", "layer_correlations", "band_matrix", "variant_band_curves", "variant_summary"}
    assert set(saved["figures"]) == expected_figures
    assert "3 variants x 1-2 seeds" in saved["captions"]["variant_summary.png"]
    assert "Student-t" in saved["captions"]["variant_summary.png"]
    for filename in saved["figures"].values():
        assert (out / filename).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_variants_are_mean_and_std_over_seeds(compared):
    comparison, out, _ = compared
    variants = {variant.label: variant for variant in comparison.variants}
    assert set(variants) == {"none", LOW, HIGH}  # only the filter differs, so it names the variant
    low = variants[LOW]
    assert low.seeds == [0, 1] and len(low.runs) == 2
    assert low.stats["clean_accuracy"]["mean"] == pytest.approx(0.61)
    assert low.stats["clean_accuracy"]["std"] == pytest.approx(np.std([0.60, 0.62], ddof=1))
    low_ci = stats.ttest_1samp([0.60, 0.62], 0.0).confidence_interval(0.95)
    assert (low.stats["clean_accuracy"]["ci_low"], low.stats["clean_accuracy"]["ci_high"]) == pytest.approx(low_ci)
    assert low.stats["train_seconds"] == {"mean": 1.0, "std": 0.0, "n": 2, "ci_low": 1.0, "ci_high": 1.0,
                                          "ci_method": "Student-t"}
    single = variants["none"]
    assert single.stats["clean_accuracy"]["std"] is None and single.stats["clean_accuracy"]["ci_low"] is None
    assert single.cell("clean_accuracy", 100.0) == "80.00 (n=1, no interval)"
    assert single.stats["robust_accuracy"]["mean"] == 0.25  # only the runs that have a column count
    assert "robust_accuracy" not in low.stats
    assert single.band_curve["low_pass_accuracy_mean"] == BANDS["low_pass_accuracy"]
    markdown = (out / C.COMPARE_MD).read_text()
    assert "## Variants: mean ± std [95% interval] over seeds" in markdown
    assert f"| Fashion-MNIST | {LOW} | 2 | 61.00 ± 1.41 [{100 * low_ci[0]:.2f}, {100 * low_ci[1]:.2f}] (n=2) |" in markdown
    assert "| Fashion-MNIST | none | 1 | 80.00 (n=1, no interval) |" in markdown
    saved = json.loads((out / C.COMPARE_JSON).read_text())
    assert [variant["label"] for variant in saved["variants"]] == [v.label for v in comparison.variants]


def test_several_sweep_folders_are_compared_as_one(sweep, tmp_path, capsys):
    import shutil

    from freqprobe.cli import main

    root, _ = sweep
    for name in ("conv", "reg"):
        shutil.copytree(root / "runs", tmp_path / name / "runs")
    code = main(["compare", str(tmp_path / "conv"), str(tmp_path / "reg"), "--out", str(tmp_path / "out"),
                 "--subset", "60", "--no-band-matrix"])
    assert code == 0
    assert "compared 8 runs" in capsys.readouterr().out
    saved = json.loads((tmp_path / "out" / C.COMPARE_JSON).read_text())
    names = [row["run"] for row in saved["rows"]]
    # the same run name in both folders: each row says which sweep it came from
    assert len(set(names)) == 8 and all(name.split("/")[0] in {"conv", "reg"} for name in names)
    assert saved["sweeps"] == ["conv", "reg"]  # named by their folder, not by this machine's path
    by_label = {variant["label"]: variant for variant in saved["variants"]}
    assert len(by_label[LOW]["runs"]) == 4  # two seeds from each folder


def test_run_folders_given_one_by_one_are_compared(sweep, tmp_path, capsys):
    import shutil

    from freqprobe.cli import main

    root, _ = sweep
    alone = tmp_path / "trained-alone" / "fashion-mnist__resnet20__none__seed0"
    shutil.copytree(root / "runs" / "fashion-mnist__resnet20__none__seed0", alone)
    chosen = [root / "runs" / f"fashion-mnist__resnet20__{LOW.replace(':', '-')}__seed1", alone]
    code = main(["compare", *map(str, chosen), "--out", str(tmp_path / "out"), "--subset", "60", "--no-band-matrix"])
    assert code == 0
    assert "compared 2 runs" in capsys.readouterr().out
    saved = json.loads((tmp_path / "out" / C.COMPARE_JSON).read_text())
    assert [row["run"] for row in saved["rows"]] == [path.name for path in chosen]
    assert [row["clean_accuracy"] for row in saved["rows"]] == [0.62, 0.80]  # their own metrics.json
    # an unfinished run given by itself is one line naming it, not an empty table
    unfinished = root / "runs" / "fashion-mnist__resnet20__blur-2__seed0"
    assert main(["compare", str(unfinished), "--out", str(tmp_path / "out2")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"freqprobe: error: run folder {unfinished} is incomplete") and "\n" not in error


def test_cli_compare_writes_the_table(sweep, tmp_path, capsys):
    from freqprobe.cli import main

    root, _ = sweep
    code = main(["compare", str(root), "--out", str(tmp_path), "--subset", "60", "--no-band-matrix"])
    assert code == 0
    assert (tmp_path / C.COMPARE_JSON).is_file() and not (tmp_path / C.BAND_MATRIX_CSV).exists()
    assert "compared 4 runs" in capsys.readouterr().out


def test_cli_errors_are_one_line(tmp_path, capsys):
    from freqprobe.cli import main

    assert main(["compare", str(tmp_path / "missing"), "--out", str(tmp_path / "out")]) == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("freqprobe: error: sweep folder") and "\n" not in message
    (tmp_path / "empty" / "runs").mkdir(parents=True)
    assert main(["compare", str(tmp_path / "empty"), "--out", str(tmp_path / "out")]) == 2
    assert "holds no complete run" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="--subset"):
        C.compare_sweep(tmp_path / "empty", subset=0)
    with pytest.raises(FreqprobeError, match="no complete run"):
        C.compare_sweep(tmp_path / "empty")


def test_a_baseline_no_run_has_is_one_line_before_any_work(sweep, tmp_path, capsys):
    from freqprobe.cli import main

    root, _ = sweep
    assert main(["compare", str(root), "--out", str(tmp_path / "out"), "--baseline", "blur:3"]) == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("freqprobe: error: --baseline 'blur:3' matches no run") and "\n" not in message
    assert f"none, {HIGH}, {LOW}" in message or "band:" in message


def test_analyze_measures_bands_and_fgsm_through_the_sensitivity_api(sweep):
    from freqprobe.train.prepare import stratified_first

    root, splits = sweep
    runs, _ = C.find_runs(root)
    run = next(run for run in runs if run.filter == HIGH)
    count = 30
    result = C.analyze_sensitivity(run, C.RunData(), count, log=lambda message: None)
    test = splits.test.select(stratified_first(splits.test.labels, count))
    # the run's own model behind its own filter on the first `count` test images: both analyses see that pipeline
    clean = direct_accuracy(run.folder, test.images, test.labels, HIGH)
    bands = result["bands"]
    assert bands["radii"] == list(C.ANALYZE_RADII) and bands["n_images"] == count
    assert bands["clean_accuracy"] == pytest.approx(clean)
    (key, attack), = result["attacks"].items()
    assert key == "fgsm-linf-eps2/255"  # ANALYZE_ATTACK_EPS, named as a budget is written
    assert attack["clean_accuracy"] == pytest.approx(clean) and attack["n_images"] == count
    assert 0.0 <= attack["robust_accuracy"] <= 1.0
    columns = C.sensitivity_columns(result)
    assert columns["robust_accuracy"] == attack["robust_accuracy"]
    assert columns["lowpass_auc"] == C.band_ablation_summary(bands)["lowpass_auc"]


def test_a_comparison_failing_midway_leaves_the_previous_set_whole(compared, tmp_path, monkeypatch):
    """Defect 5: files written before the failure (csv, figures) never land beside the previous compare.json."""
    from freqprobe.analysis.compare import output

    comparison, out, _ = compared
    previous = tmp_path / "compare"
    previous.mkdir()
    for path in out.iterdir():
        (previous / path.name).write_bytes(path.read_bytes())
    (previous / C.COMPARE_CSV).write_text("the previous run's table\n")
    (previous / C.COMPARE_JSON).write_text('{"previous": true}\n')
    before = {path.name: path.read_bytes() for path in previous.iterdir()}

    def fails(_comparison):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(output, "format_markdown", fails)
    with pytest.raises((OSError, FreqprobeError)):  # a disk error is reported as a one-line WriteError
        C.write_comparison(comparison, previous)
    assert {path.name: path.read_bytes() for path in previous.iterdir()} == before

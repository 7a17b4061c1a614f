"""Folders in the formats freqprobe writes, for the report tests: a run with its analyses, a sweep, a JPEG spectrum."""

from __future__ import annotations

import pytest

from report_folders import JPEG_DATASET, save_figure, write_json, write_run_folder  # noqa: F401


@pytest.fixture()
def make_png():
    """``make_png(path, title, seed)`` writes a small real PNG."""
    return save_figure


@pytest.fixture(scope="session")
def run_tree(shared_data, tmp_path_factory):
    """A run folder with figures/, a real ``freqprobe spectrum`` output, a sensitivity and a filters analysis."""
    from freqprobe.cli import main

    root = tmp_path_factory.mktemp("report-run") / "fashion-mnist__resnet20__blur-2__seed0"
    write_run_folder(root)
    save_figure(root / "figures" / "learning_curve.png", "learning curve", 1)
    spectrum_dir = root / "analysis" / "spectrum"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FREQPROBE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        code = main([
            "spectrum", "--dataset", "fashion-mnist", "--data-dir", str(shared_data), "--split", "val",
            "--val-fraction", "0.05", "--split-seed", "3", "--out", str(spectrum_dir),
        ])
    assert code == 0
    sensitivity = root / "analysis" / "sensitivity"
    write_json(sensitivity / "sensitivity.json", {
        "run": str(root), "model": "resnet20", "dataset": "fashion-mnist", "filter": "blur:2", "test_images": 200,
        "bands": {"radii": [0.0, 0.25, 0.5], "low_pass_accuracy": [0.1, 0.6, 0.9],
                  "high_pass_accuracy": [0.9, 0.2, 0.1], "clean_accuracy": 0.9, "n_images": 200},
        "attacks": {"fgsm-linf-eps0.007843": {"clean_accuracy": 0.9, "robust_accuracy": 0.41,
                                              "perturbation_spectrum": {"spectral_centroid": 0.33},
                                              "clean_spectrum": {"spectral_centroid": 0.08}}},
    })
    save_figure(sensitivity / "band_ablation.png", "bands", 2)
    save_figure(sensitivity / "attack_fgsm-linf-eps0.007843.png", "attack", 3)
    filters = root / "analysis" / "filters"
    write_json(filters / "filters.json", {
        "source": str(root), "model": "resnet20", "dataset": "fashion-mnist", "grid": 32, "cutoff": 0.25,
        "totals": {"conv_layers": 2, "kernels": 160},
        "layers": [
            {"name": "stem", "shape": [16, 1, 3, 3], "stride": [1, 1], "spectral_centroid_mean": 0.3125,
             "spectral_centroid_std": 0.05, "high_frequency_ratio": 0.41, "spectral_norm": 2.5},
            {"name": "layer1.0.conv1", "shape": [16, 16, 3, 3], "stride": [1, 1], "spectral_centroid_mean": 0.35,
             "high_frequency_ratio": None, "spectral_norm": 3.1},
        ],
        "captions": {"first_layer_kernels.png": "The sixteen stem kernels beside their spectra"},
    })
    save_figure(filters / "first_layer_kernels.png", "kernels", 4)
    return root


@pytest.fixture()
def sweep_tree(tmp_path):
    """A sweep folder: sweep.json, results.csv/md, reproduce.md, two runs (one with figures), a failure record, a
    compare output beside it and a JPEG-CIFAR spectrum."""
    root = tmp_path / "sweep"
    write_json(root / "sweep.json", {"spec": "spec.toml", "base": {"epochs": 2},
                                     "grid": {"filter": ["none", "blur:2"], "seed": [0]},
                                     "runs": {"a": {"dataset": "fashion-mnist"}, "b": {"dataset": "fashion-mnist"}}})
    (root / "results.csv").write_text("dataset,filter,seed,test_accuracy,status\nfashion-mnist,none,0,0.9,complete\n")
    (root / "results.md").write_text(
        "# Sweep results: spec.toml\n\nAccuracy in percent, mean ± sample std.\n\n"
        "| filter | fashion-mnist test | fashion-mnist val |\n| --- | --- | --- |\n"
        "| none | 91.20 (n=1) | 90.10 (n=1) |\n| blur:2 | 88.40 (n=1) | 87.90 (n=1) |\n"
    )
    (root / "reproduce.md").write_text(
        "# Reproduction\n\n| filter | original | here |\n| --- | --- | --- |\n| highpass:2 | 85.0 | 84.1 \\| noisy |\n"
    )
    write_run_folder(root / "runs" / "fashion-mnist__resnet20__none__seed0", filter_spec="none")
    write_run_folder(root / "runs" / "fashion-mnist__resnet20__blur-2__seed0", filter_spec="blur:2")
    save_figure(root / "runs" / "fashion-mnist__resnet20__blur-2__seed0" / "figures" / "curves.png", "curves", 5)
    write_json(root / "failed" / "c.json", {"run": "c", "error": "TrainingDiverged: loss is nan"})
    write_json(root / "locks" / "a.lock", {"host": "x"})
    compare = root / "compare"
    write_json(compare / "compare.json", {"sweep": str(root), "rows": [{"dataset": "fashion-mnist"}] * 2})
    (compare / "compare.md").write_text("# Links\n\n| run | input_centroid |\n| --- | --- |\n| a | 0.0625 |\n")
    save_figure(compare / "scatter_input_centroid.png", "scatter", 6)
    save_figure(compare / "band_matrix.png", "band matrix", 7)
    jpeg = root / "jpeg-spectrum"
    write_json(jpeg / "spectrum.json", {"dataset": JPEG_DATASET, "source": "../shared/data/cifar10-jpeg.tar.gz",
                                        "split": "train", "filter": "none", "n_images": 40000,
                                        "data_note": "CIFAR-10 (JPEG q75 copy)", "classes": {}})
    save_figure(jpeg / "class_spectra.png", "jpeg spectra", 8)
    save_figure(root / ".hidden" / "skip.png", "hidden", 9)
    return root

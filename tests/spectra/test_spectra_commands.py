"""``freqprobe spectrum`` and ``freqprobe preview`` end to end on small real data, checked against numpy."""

from __future__ import annotations

import contextlib
import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from freqprobe.cli import main
from freqprobe.spectra.commands import PREVIEW_FILE, SPECTRUM_FILE
from freqprobe.data.labels import JPEG_COPY_LABEL
from freqprobe.spectra.summary import DEFINITIONS
from freqprobe.report.captions import data_context, figure_caption

FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
]
FIGURES = [
    "class_spectra.png", "radial_profiles.png", "centroid_histograms.png", "discrimination_map.png",
    "class_spectra_hamming.png",  # drawn without --window: the class spectra without the border-jump cross
]
# A 5% stratified validation split of Fashion-MNIST's training set: 300 real images per class, quick to analyse.
SMALL_SPLIT = ["--split", "val", "--val-fraction", "0.05", "--split-seed", "3"]


@pytest.fixture(scope="module")
def cache_env(tmp_path_factory):
    # Module-scoped runs cannot use the function-scoped cache fixture; keep their decoded data out of ~/.cache too.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FREQPROBE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        yield


@pytest.fixture(scope="module")
def fashion_run(shared_data, tmp_path_factory, cache_env):
    """One CLI run on the small validation split: (output folder, spectrum.json content, stdout)."""
    out = tmp_path_factory.mktemp("fashion-spectrum")
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        code = main(
            ["spectrum", "--dataset", "fashion-mnist", "--data-dir", str(shared_data), *SMALL_SPLIT, "--out", str(out)]
        )
    assert code == 0
    return out, json.loads((out / SPECTRUM_FILE).read_text()), captured.getvalue()


@pytest.fixture(scope="module")
def fashion_val_images(shared_data, cache_env):
    """The same split, loaded through the data API: uint8 (N, 1, 28, 28) and labels as numpy."""
    from freqprobe.data import load_splits

    splits = load_splits("fashion-mnist", root=shared_data, val_fraction=0.05, seed=3)
    return splits.val.images.numpy(), splits.val.labels.numpy()


def numpy_power_and_centroids(images_uint8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Channel-averaged power (N, H, W) and per-image centroids (N,), written with numpy only."""
    x = images_uint8.astype(np.float64) / 255.0
    height, width = x.shape[-2:]
    power = np.abs(np.fft.fft2(x)) ** 2 / (height * width)
    radius = np.hypot(np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :])
    centroids = ((power * radius).sum((-2, -1)) / power.sum((-2, -1))).mean(axis=1)
    return power.mean(axis=1), centroids


def test_metadata_and_keys(fashion_run):
    _, summary, _ = fashion_run
    assert summary["dataset"] == "fashion-mnist" and summary["split"] == "val"
    assert summary["filter"] == "none" and summary["window"] == "none" and summary["boundary"] == "circular"
    assert summary["n_images"] == 3000 and summary["image_size"] == [28, 28] and summary["channels"] == 1
    assert "fashion-mnist" in summary["source"]
    assert "data_note" not in summary
    assert set(DEFINITIONS) <= set(summary["definitions"])
    assert list(summary["classes"]) == FASHION_CLASSES
    for entry in [*summary["classes"].values(), summary["all"]]:
        expected_keys = {"spectral_centroid_mean", "spectral_centroid_std", "radial_slope", "radial_profile", "n_images"}
        assert expected_keys <= set(entry)
        assert len(entry["radial_profile"]["radius"]) == len(entry["radial_profile"]["power"]) == 15


def test_class_counts_and_histograms_add_up(fashion_run, fashion_val_images):
    _, summary, _ = fashion_run
    _, labels = fashion_val_images
    expected = np.bincount(labels, minlength=10)
    for k, name in enumerate(FASHION_CLASSES):
        entry = summary["classes"][name]
        assert entry["n_images"] == expected[k] == 300
        assert sum(entry["centroid_histogram"]["counts"]) == entry["n_images"]
    assert sum(summary["all"]["centroid_histogram"]["counts"]) == summary["n_images"]


def test_centroids_match_numpy(fashion_run, fashion_val_images):
    _, summary, _ = fashion_run
    images, labels = fashion_val_images
    _, centroids = numpy_power_and_centroids(images)
    for k, name in enumerate(FASHION_CLASSES):
        entry = summary["classes"][name]
        assert entry["spectral_centroid_mean"] == pytest.approx(centroids[labels == k].mean(), rel=1e-5)
        assert entry["spectral_centroid_std"] == pytest.approx(centroids[labels == k].std(), rel=1e-4)
    assert summary["all"]["spectral_centroid_mean"] == pytest.approx(centroids.mean(), rel=1e-5)


def test_radial_profile_and_slope_match_numpy(fashion_run, fashion_val_images):
    _, summary, _ = fashion_run
    images, labels = fashion_val_images
    power, _ = numpy_power_and_centroids(images)
    radius = np.hypot(np.fft.fftfreq(28)[:, None], np.fft.fftfreq(28)[None, :])
    annulus = np.floor(radius * 28 + 0.5 + 1e-9)
    for name, members in [("Trouser", labels == 1), ("all", np.ones_like(labels, dtype=bool))]:
        entry = summary["all"] if name == "all" else summary["classes"][name]
        mean_power = power[members].mean(axis=0)
        expected = [mean_power[annulus == k].mean() for k in range(15)]
        np.testing.assert_allclose(entry["radial_profile"]["radius"], np.arange(15) / 28, atol=1e-7)
        np.testing.assert_allclose(entry["radial_profile"]["power"], expected, rtol=1e-5)
        fitted = np.polyfit(np.log(np.arange(1, 15) / 28), np.log(expected[1:]), 1)[0]
        assert entry["radial_slope"] == pytest.approx(fitted, abs=1e-4)
    # Real clothing images fall off steeply, as natural images do (about -2 or steeper).
    assert -3.5 < summary["all"]["radial_slope"] < -1.5


def test_figures_are_valid_pngs_and_nothing_half_written(fashion_run):
    out, summary, stdout = fashion_run
    assert sorted(summary["figures"].values()) == sorted(FIGURES)
    for name in FIGURES:
        path = out / name
        assert path.stat().st_size > 10_000
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width > 600 and image.height > 300
        assert str(path) in stdout
    assert str(out / SPECTRUM_FILE) in stdout
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "temporary files were left behind"


def test_blur_lowers_and_highpass_raises_the_centroid_of_real_images(shared_data, cache_env):
    from freqprobe.data import load_dataset
    from freqprobe.filters import build_filter
    from freqprobe.spectra import compute_dataset_spectrum

    test = load_dataset("fashion-mnist", train=False, root=shared_data)
    images, labels = test.images[:2000], test.labels[:2000]
    plain = compute_dataset_spectrum(images, labels, test.classes)
    blurred = compute_dataset_spectrum(images, labels, test.classes, transform=build_filter("blur:1"))
    sharpened = compute_dataset_spectrum(images, labels, test.classes, transform=build_filter("highpass:1"))
    plain_mean, blurred_mean, sharp_mean = (r.centroid_moments()[0] for r in (plain, blurred, sharpened))
    assert bool((blurred_mean < plain_mean).all()) and bool((sharp_mean > plain_mean).all())
    # A Gaussian of sigma 1 keeps exp(-2 pi^2 |f|^2)^2 of the power: at |f| = 0.25 that is 0.085.
    radii, plain_profile = plain.radial_profiles()
    _, blurred_profile = blurred.radial_profiles()
    at_quarter = int(np.argmin(np.abs(radii.numpy() - 0.25)))
    ratio = (blurred_profile[:, at_quarter] / plain_profile[:, at_quarter]).numpy()
    expected = np.exp(-4 * np.pi**2 * float(radii[at_quarter]) ** 2)
    np.testing.assert_allclose(ratio, expected, rtol=0.15)


def test_whiten_is_fitted_on_train_and_flattens_the_spectrum(shared_data, fashion_run, tmp_path, cache_env):
    _, plain, _ = fashion_run
    # A small train split (10% of the training files) keeps the fit quick; the spectrum is taken on the test split.
    code = main(["spectrum", "--dataset", "fashion-mnist", "--data-dir", str(shared_data), "--val-fraction", "0.9",
                 "--split", "test", "--filter", "whiten", "--out", str(tmp_path)])
    assert code == 0
    whitened = json.loads((tmp_path / SPECTRUM_FILE).read_text())
    assert whitened["filter"] == "whiten" and whitened["split"] == "test" and whitened["n_images"] == 10000
    assert whitened["filter_fitted_on"] == "train split (6000 images)"
    assert abs(whitened["all"]["radial_slope"]) < 0.5 < abs(plain["all"]["radial_slope"])


@pytest.fixture(scope="module")
def mini_cifar_archive(shared_data, tmp_path_factory) -> Path:
    """A real-data subset of the shared CIFAR-10 JPEG archive: 3 classes, 6 train + 3 test images each, same name."""
    wanted = {"train": 6, "test": 3}
    classes = ["airplane", "automobile", "bird"]
    taken: dict[tuple[str, str], int] = {}
    out = tmp_path_factory.mktemp("mini-cifar") / "cifar10-jpeg.tar.gz"
    with tarfile.open(shared_data / "cifar10-jpeg.tar.gz") as source, tarfile.open(out, "w:gz") as target:
        for member in source:
            parts = member.name.split("/")
            if not member.isfile() or len(parts) != 3 or parts[1] not in classes:
                continue
            key = (parts[0], parts[1])
            if taken.get(key, 0) < wanted[parts[0]]:
                target.addfile(member, source.extractfile(member))
                taken[key] = taken.get(key, 0) + 1
            if len(taken) == 6 and all(taken[k] == wanted[k[0]] for k in taken):
                break
    return out


def test_jpeg_cifar_copy_carries_its_note_and_rgb_works(mini_cifar_archive, tmp_path, capsys):
    code = main(["spectrum", "--dataset", f"folder:{mini_cifar_archive}", "--split", "test", "--window", "hamming",
                 "--out", str(tmp_path)])
    assert code == 0
    summary = json.loads((tmp_path / SPECTRUM_FILE).read_text())
    spectrum_notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note:")]
    assert summary["data_note"] == JPEG_COPY_LABEL and spectrum_notes == [f"note: {JPEG_COPY_LABEL}"]
    # freqprobe data info names the same copy with the same note
    assert main(["data", "info", "--dataset", f"folder:{mini_cifar_archive}", "--val-fraction", "0.5"]) == 0
    info_notes = [line.split(":", 1)[1].strip() for line in capsys.readouterr().out.splitlines()
                  if line.startswith("note:")]
    assert info_notes == [JPEG_COPY_LABEL]
    assert summary["channels"] == 3 and summary["image_size"] == [32, 32] and summary["window"] == "hamming"
    # the numbers are windowed already: no second, windowed class-spectra figure beside them
    assert "class_spectra_hamming.png" not in summary["figures"].values()
    assert not (tmp_path / "class_spectra_hamming.png").exists()
    assert list(summary["classes"]) == ["airplane", "automobile", "bird"] and summary["n_images"] == 9
    assert len(summary["all"]["radial_profile"]["radius"]) == 17


def test_preview_shows_one_image_of_each_class_by_default(shared_data, tmp_path, cache_env):
    assert main(["preview", "--dataset", "fashion-mnist", "--data-dir", str(shared_data), "--filter", "blur:1",
                 "--out", str(tmp_path)]) == 0
    recorded = json.loads((tmp_path / "preview.json").read_text())
    assert recorded["n_images"] == 10 and recorded["classes"] == FASHION_CLASSES


def test_preview_draws_every_filter(shared_data, tmp_path, capsys, cache_env):
    code = main(["preview", "--dataset", "fashion-mnist", "--data-dir", str(shared_data), "--filter", "blur:1",
                 "--filter", "highpass:1", "--n", "4", "--out", str(tmp_path)])
    assert code == 0
    path = tmp_path / PREVIEW_FILE
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG" and image.height > image.width * 0.8  # 3 stages x 2 rows for 4 columns
    assert str(path) in capsys.readouterr().out
    recorded = json.loads((tmp_path / "preview.json").read_text())
    assert recorded["dataset"] == "fashion-mnist" and recorded["split"] == "test" and recorded["n_images"] == 4
    assert recorded["filter"] == "blur:1, highpass:1"
    assert recorded["classes"] == ["T-shirt/top", "Trouser", "Pullover", "Dress"]  # one per class, in class order
    caption = figure_caption(path, data_context(tmp_path, tmp_path))
    assert caption.endswith("Data: Fashion-MNIST, test split (4 images), filter blur:1, highpass:1.")


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--filter", "sharpen:2"], "unknown filter"),
        (["--filter", "blur:0"], "blur:0"),
        (["--batch-size", "0"], "--batch-size"),
        (["--dataset", "mnist"], "unknown dataset"),
    ],
)
def test_bad_input_is_one_line_and_leaves_earlier_output_intact(arguments, message, tmp_path, capsys):
    (tmp_path / SPECTRUM_FILE).write_text('{"earlier": true}\n')
    base = ["spectrum", "--dataset", "fashion-mnist", "--out", str(tmp_path)]
    if "--dataset" in arguments:
        base = ["spectrum", "--out", str(tmp_path)]
    assert main([*base, *arguments]) == 2
    error = capsys.readouterr().err
    assert error.startswith("freqprobe: error: ") and error.count("\n") == 1 and message in error
    assert (tmp_path / SPECTRUM_FILE).read_text() == '{"earlier": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == [SPECTRUM_FILE]


def test_empty_split_is_a_one_line_error(shared_data, tmp_path, capsys, cache_env):
    code = main(["spectrum", "--dataset", "fashion-mnist", "--data-dir", str(shared_data), "--split", "val",
                 "--val-fraction", "0", "--out", str(tmp_path)])
    assert code == 2
    error = capsys.readouterr().err
    assert "val split of fashion-mnist is empty" in error and error.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_parser_module_does_not_import_torch_or_matplotlib():
    import subprocess
    import sys

    check = "import sys, freqprobe.spectra.commands; print('torch' in sys.modules, 'matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_out_pointing_at_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("keep me")
    assert main(["preview", "--dataset", "fashion-mnist", "--filter", "blur:1", "--out", str(target)]) == 2
    assert "existing file" in capsys.readouterr().err and target.read_text() == "keep me"


@pytest.mark.parametrize("command", ["spectrum", "preview"])
def test_help_lists_the_options(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for option in ("--dataset", "--filter", "--boundary", "--split", "--out"):
        assert option in text


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}


def _copy_of_finished_spectrum(fashion_run, tmp_path) -> tuple[Path, dict[str, bytes]]:
    out = tmp_path / "spectrum"
    out.mkdir()
    for name, data in _folder_bytes(fashion_run[0]).items():
        (out / name).write_bytes(data)
    return out, _folder_bytes(out)


def test_a_spectrum_failing_midway_leaves_the_previous_set_whole(fashion_run, shared_data, tmp_path, monkeypatch,
                                                                 cache_env):
    """Defect 5: the second figure fails while it is written; the folder keeps exactly the previous spectrum."""
    import freqprobe.plots.spectra

    out, before = _copy_of_finished_spectrum(fashion_run, tmp_path)

    def disk_fails(*_args, **_kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(freqprobe.plots.spectra, "plot_radial_profiles", disk_fails)
    argv = ["spectrum", "--dataset", "fashion-mnist", "--data-dir", str(shared_data), *SMALL_SPLIT, "--filter",
            "blur:1", "--out", str(out)]  # fmt: skip
    assert main(argv) == 2
    assert sorted(p.name for p in out.iterdir()) == sorted(before)  # no staging folder either
    assert _folder_bytes(out) == before
    assert json.loads((out / SPECTRUM_FILE).read_text())["filter"] == "none"


def test_a_spectrum_killed_midway_leaves_the_previous_set_and_the_next_run_cleans_up(fashion_run, shared_data,
                                                                                     tmp_path, cache_env):
    """Defect 5 with a real SIGKILL while the second figure is written: the old set stays whole beside a hidden
    staging folder, which the next run removes before it publishes its own complete set."""
    import subprocess
    import sys

    out, before = _copy_of_finished_spectrum(fashion_run, tmp_path)
    argv = ["spectrum", "--dataset", "fashion-mnist", "--data-dir", str(shared_data), *SMALL_SPLIT, "--filter",
            "blur:1", "--out", str(out)]  # fmt: skip
    killer = (
        "import os, signal, sys, freqprobe.plots.spectra as figures\n"
        "figures.plot_radial_profiles = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
        "from freqprobe.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    killed = subprocess.run([sys.executable, "-c", killer, *argv], capture_output=True)
    assert killed.returncode == -9, killed.stderr.decode()
    leftovers = [p for p in out.iterdir() if p.name not in before]
    assert [p.name.startswith(f".{SPECTRUM_FILE}.") and p.is_dir() for p in leftovers] == [True]
    assert (leftovers[0] / "class_spectra.png").is_file()  # the kill came after the first new figure
    assert _folder_bytes(out) == before

    assert main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(before)
    summary = json.loads((out / SPECTRUM_FILE).read_text())
    assert summary["filter"] == "blur:1" and sorted(summary["figures"].values()) == sorted(FIGURES)
    assert all(_folder_bytes(out)[name] != before[name] for name in FIGURES)


def test_out_under_a_file_or_read_only_fails_before_any_work(tmp_path, capsys, monkeypatch):
    """Defect 6: the output folder is checked first. As root chmod does not stop writes, so a read-only folder
    is simulated where the kernel would refuse: os.open of a new file in it raises EROFS."""
    import errno
    import os

    import freqprobe.data

    def no_data(*_args, **_kwargs):
        raise AssertionError("the data was loaded before --out was checked")

    monkeypatch.setattr(freqprobe.data, "splits_from_args", no_data)
    (tmp_path / "file").write_text("keep me")
    assert main(["spectrum", "--dataset", "fashion-mnist", "--out", str(tmp_path / "file" / "sub")]) == 2
    error = capsys.readouterr().err
    expected = f"--out {tmp_path / 'file' / 'sub'} lies under the file {tmp_path / 'file'}; give a folder path"
    assert error == f"freqprobe: error: {expected}\n"

    read_only = tmp_path / "read-only"
    read_only.mkdir()
    real_open = os.open

    def refuse_new_files(path, flags, *args, **kwargs):
        if Path(path).parent == read_only and flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse_new_files)
    assert main(["spectrum", "--dataset", "fashion-mnist", "--out", str(read_only)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"freqprobe: error: --out {read_only} is not writable (Read-only file system")
    assert error.count("\n") == 1 and list(read_only.iterdir()) == []

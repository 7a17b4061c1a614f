"""``analyze_kernels`` and ``freqprobe filters`` end to end on small models."""

from __future__ import annotations

import json
import os

import pytest
import torch
from torch import nn

from freqprobe.analysis.kernels import analyze_kernels, kernel_statistics
from freqprobe.analysis.singular import conv_singular_values
from freqprobe.cli import main
from freqprobe.models import create_model, save_weights

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LAYER_KEYS = {
    "name", "shape", "stride", "input_size", "kernels", "zero_kernels", "spectral_centroid_mean",
    "spectral_centroid_std", "high_frequency_ratio", "spectral_norm", "singular_values", "sparsity",
    "variance_entropy", "variance_entropy_normalized", "orthogonality", "aliasing_share", "radial_profile",
    "histograms",
}
FIGURES = (
    "kernel_centroid_histograms.png", "kernel_high_frequency_histograms.png", "kernel_orientation_histograms.png",
    "kernel_radial_profiles.png", "first_layer_kernels.png", "singular_values.png",
)


def tiny_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 6, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(6, 5, 1),
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two freshly initialized resnet20 runs on fashion-mnist (different seeds)."""
    root = tmp_path_factory.mktemp("runs")
    for seed, name in enumerate(("a", "b")):
        torch.manual_seed(seed)
        folder = root / name
        folder.mkdir()
        save_weights(create_model("resnet20", in_channels=1), folder / "model.safetensors")
        (folder / "config.json").write_text(json.dumps({"model": "resnet20", "dataset": "fashion-mnist"}))
    return root


def test_analyze_kernels_summarizes_every_conv_of_a_module():
    model = tiny_model()
    model[2].weight.data[0, :2] = 0.0  # two dead kernels
    result = analyze_kernels(model, grid=16, cutoff=0.2, input_size=12)
    json.dumps(result, allow_nan=False)  # strict JSON: NaN must have become null
    assert [layer["name"] for layer in result["layers"]] == ["0", "2", "4"]
    first, strided, pointwise = result["layers"]
    assert LAYER_KEYS <= set(first)
    assert (first["input_size"], strided["input_size"], pointwise["input_size"]) == ([12, 12], [12, 12], [6, 6])
    assert (strided["kernels"], strided["zero_kernels"], strided["stride"]) == (24, 2, [2, 2])
    stats = kernel_statistics(model[2].weight.detach(), 16, 0.2, 2)
    alive = stats.nonzero
    assert strided["spectral_centroid_mean"] == pytest.approx(float(stats.spectral_centroid[alive].mean()), rel=1e-6)
    assert strided["high_frequency_ratio"] == pytest.approx(float(stats.high_frequency_ratio[alive].mean()), rel=1e-6)
    assert sum(strided["histograms"]["spectral_centroid"]["counts"]) == 22
    expected_norm = conv_singular_values(model[2].weight.detach(), 12, 2)[0].item()
    assert strided["spectral_norm"] == pytest.approx(expected_norm, rel=1e-6)
    assert strided["aliasing_share"] is not None and first["aliasing_share"] is None
    # parameters of each conv module: weight + bias (4 + 6 + 5)
    weights_and_biases = (108 + 4) + (216 + 6) + (30 + 5)
    assert result["totals"] == {
        "conv_layers": 3, "kernels": 12 + 24 + 30, "conv_parameters": weights_and_biases, "grouped_layers": 0,
        "spatially_flat_layers": 1, "skipped_layers": 0,
    }
    assert [layer["spatially_flat"] for layer in result["layers"]] == [False, False, True]
    assert result["skipped_layers"] == []
    assert (result["grid"], result["cutoff"], result["input_size"], result["in_channels"]) == (16, 0.2, 12, 3)
    assert set(result["definitions"]) >= {"spectral_centroid", "high_frequency_ratio", "aliasing_share", "sparsity"}


def test_comparison_of_a_model_with_itself_is_zero_and_with_another_is_not():
    same = analyze_kernels(tiny_model(0), compare=tiny_model(0), singular_values=False)
    other = analyze_kernels(tiny_model(0), compare=tiny_model(1), singular_values=False)
    assert all(layer["spectral_norm"] is None for layer in same["layers"])
    for entry in same["comparison"]["layers"]:
        assert entry["spectral_centroid_wasserstein"] == 0.0 and entry["high_frequency_ratio_wasserstein"] == 0.0
    assert other["comparison"]["layers"][0]["spectral_centroid_wasserstein"] > 0.0
    assert other["comparison"]["unmatched_layers"] == []


def test_cli_writes_filters_json_and_figures_for_a_run(runs, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["filters", str(runs / "a"), "--out", str(out), "--compare", str(runs / "b")]) == 0
    result = json.loads((out / "filters.json").read_text())
    assert (result["model"], result["in_channels"], result["input_size"]) == ("resnet20", 1, 28)
    assert {"source", "grid", "cutoff", "definitions", "layers", "comparison"} <= set(result)
    # named relative to filters.json's folder: no machine path in a committed file
    expected = (os.path.relpath(runs / "a", out), os.path.relpath(runs / "b", out))
    assert (result["source"], result["comparison"]["source"]) == expected
    assert not os.path.isabs(result["source"])
    assert len(result["layers"]) == 19  # stem + 18 block convs; option-A shortcuts have no conv
    assert LAYER_KEYS <= set(result["layers"][0])
    strided = [layer for layer in result["layers"] if layer["stride"] == [2, 2]]
    assert [layer["input_size"] for layer in strided] == [[28, 28], [14, 14]]
    assert all(0.0 < layer["aliasing_share"] < 1.0 for layer in strided)
    assert len(result["comparison"]["layers"]) == 19
    printed = capsys.readouterr().out
    # the per-layer distances are printed, each row the numbers filters.json holds for that layer
    assert f"compared with {result['comparison']['source']}: 1-Wasserstein distance per layer" in printed
    for entry in result["comparison"]["layers"]:
        keys = ("spectral_centroid_wasserstein", "spectral_centroid_mean_difference",
                "high_frequency_ratio_wasserstein", "high_frequency_ratio_mean_difference")
        # the summary table prints each layer too (4 numbers); the comparison's row is the last one of that name
        shown = [line.split()[1:] for line in printed.splitlines() if line.split()[:1] == [entry["name"]]][-1]
        assert [float(cell) for cell in shown] == pytest.approx([entry[key] for key in keys], abs=5e-5)
    assert result["comparison"]["layers"][0]["spectral_centroid_wasserstein"] > 0.0
    for name in ("filters.json", *FIGURES):
        assert f"wrote {out / name}" in printed
        if name.endswith(".png"):
            assert (out / name).read_bytes()[:8] == PNG_SIGNATURE


def test_cli_weights_file_without_model_is_a_one_line_error(runs, tmp_path, capsys):
    code = main(["filters", str(runs / "a" / "model.safetensors"), "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err
    assert code == 2
    assert error.startswith("freqprobe: error: weights file") and "--model" in error and error.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_cli_weights_file_with_model_and_channels_works(runs, tmp_path):
    weights = runs / "a" / "model.safetensors"
    out = tmp_path / "out"
    args = ["filters", str(weights), "--out", str(out), "--model", "resnet20", "--in-channels", "1"]
    assert main([*args, "--grid", "24", "--cutoff", "0.3", "--input-size", "16", "--no-singular-values"]) == 0
    result = json.loads((out / "filters.json").read_text())
    assert (result["grid"], result["cutoff"], result["input_size"]) == (24, 0.3, 16)
    assert result["layers"][0]["spectral_norm"] is None and not (out / "singular_values.png").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--grid", "2"], "smaller than a 3x3 kernel"),
        (["--cutoff", "0"], "cutoff"),
        (["--input-size", "0"], "--input-size"),
    ],
)
def test_cli_bad_options_are_one_line_errors(runs, tmp_path, capsys, extra, message):
    assert main(["filters", str(runs / "a"), "--out", str(tmp_path / "out"), *extra]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_cli_missing_source_is_a_one_line_error(tmp_path, capsys):
    assert main(["filters", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_kernel_stats_callback_records_each_epoch_and_follows_the_weights(tmp_path):
    from freqprobe.analysis.kernels import KernelStatsCallback
    from freqprobe.io import read_jsonl

    model = tiny_model()
    callback = KernelStatsCallback(tmp_path / "kernels.jsonl", grid=16)
    first = callback(1, model)
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]]))  # Laplacians
    second = callback(2, model)
    assert [record["epoch"] for record in read_jsonl(tmp_path / "kernels.jsonl")] == [1, 2]
    assert callback.history == [first, second]
    laplacian = kernel_statistics(model[0].weight.detach()[:1, :1], 16).spectral_centroid.item()
    assert second["layers"][0]["spectral_centroid_mean"] == pytest.approx(laplacian, rel=1e-6)
    assert second["layers"][0]["spectral_centroid_std"] == pytest.approx(0.0, abs=1e-6)
    assert first["layers"][1] == second["layers"][1]  # untouched layer, same numbers
    assert "histograms" not in first["layers"][0] and first["layers"][0]["spectral_norm"] is None


def test_filters_replaces_only_its_own_set_in_a_shared_folder(runs, tmp_path, monkeypatch):
    """Defect 5: filters and sensitivity share RUN/analysis; a re-run replaces filters' files (removing a figure it
    no longer draws), never sensitivity's, and a failure midway leaves the previous filters set whole."""
    import freqprobe.plots.kernels

    out = tmp_path / "analysis"
    out.mkdir()
    (out / "filters.json").write_text('{"earlier": true}')
    (out / "singular_values.png").write_bytes(b"figure of the earlier run")
    (out / "sensitivity.json").write_text('{"bands": {}}')
    (out / "band_ablation.png").write_bytes(b"sensitivity's figure")
    argv = ["filters", str(runs / "a"), "--out", str(out), "--no-singular-values"]
    assert main(argv) == 0
    names = sorted(path.name for path in out.iterdir())
    assert names == sorted(["filters.json", "sensitivity.json", "band_ablation.png", *FIGURES[:-1]])
    assert (out / "band_ablation.png").read_bytes() == b"sensitivity's figure"
    before = {path.name: path.read_bytes() for path in out.iterdir()}

    def disk_fails(*_args, **_kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(freqprobe.plots.kernels, "plot_radial_profiles", disk_fails)
    assert main(["filters", str(runs / "b"), "--out", str(out), "--no-singular-values"]) == 2
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


def test_an_out_under_a_file_fails_before_the_analysis(runs, tmp_path, capsys, monkeypatch):
    """Defect 6: --out is checked before minutes of analysis."""
    import freqprobe.analysis.kernels

    def no_analysis(*_args, **_kwargs):
        raise AssertionError("the analysis ran before --out was checked")

    monkeypatch.setattr(freqprobe.analysis.kernels, "analyze_kernels", no_analysis)
    (tmp_path / "taken").write_text("keep me")
    for out, what in ((tmp_path / "taken", "is an existing file"), (tmp_path / "taken" / "sub", "lies under the file")):
        assert main(["filters", str(runs / "a"), "--out", str(out)]) == 2
        error = capsys.readouterr().err
        assert error.startswith(f"freqprobe: error: --out {out} {what}") and error.count("\n") == 1
    assert (tmp_path / "taken").read_text() == "keep me"

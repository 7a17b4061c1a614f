"""Heat maps of a stated subset of frequencies (stride, seeded sample with an interval) and split into shards that
merge back exactly: against the full map, brute-force selections and the sampling formulas written out in numpy."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from freqprobe import cli
from freqprobe.analysis.sensitivity.heatmap import canonical_frequencies, conjugate, fourier_heat_map
from freqprobe.analysis.sensitivity.heatmap_merge import merge_heatmaps
from freqprobe.analysis.sensitivity.heatmap_plan import HeatMapPlan, sampled_mean_estimate
from freqprobe.analysis.sensitivity.pipeline import InferenceSettings
from freqprobe.errors import ConfigError
from freqprobe.models.pixel_space import PixelSpaceModel

FP32 = InferenceSettings(batch_size=7, precision="fp32")


def small_network() -> nn.Module:
    """Grouped, dilated and 1x1 convolutions, GELU, LayerNorm-free pooling: any network the heat map must take."""
    torch.manual_seed(0)
    body = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.GELU(), nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=4),
        nn.Conv2d(8, 4, 1), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4 * 5 * 6, 3),
    )
    return PixelSpaceModel(body, in_channels=3, mean=[0.5] * 3, std=[0.25] * 3)


@pytest.fixture(scope="module")
def images_and_labels():
    generator = torch.Generator().manual_seed(1)
    images = torch.rand(13, 3, 10, 12, generator=generator)
    return images, torch.randint(0, 3, (13,), generator=generator)


def signed(index: int, size: int) -> int:
    return int(round(np.fft.fftfreq(size)[index] * size))


@pytest.mark.parametrize(("height", "width", "stride"), [(10, 12, 2), (9, 12, 3), (16, 16, 4), (7, 7, 1)])
def test_stride_keeps_the_pairs_whose_signed_indices_are_multiples_of_it(height, width, stride):
    selected = HeatMapPlan(stride=stride).selected(height, width)
    expected = [pair for pair in canonical_frequencies(height, width)
                if signed(pair[0], height) % stride == 0 and signed(pair[1], width) % stride == 0]
    assert selected == expected and (0, 0) in selected
    cells = {pair for pair in selected} | {conjugate(pair, height, width) for pair in selected}
    brute = {(y, x) for y in range(height) for x in range(width)
             if signed(y, height) % stride == 0 and signed(x, width) % stride == 0}
    assert cells == brute


def test_sample_is_seeded_sorted_and_drawn_from_the_population_and_shards_partition_it():
    plan = HeatMapPlan(stride=2, sample=9, seed=3)
    selected = plan.selected(16, 16)
    population = plan.population(16, 16)
    assert len(selected) == 9 and set(selected) <= set(population) and selected == sorted(selected)
    assert selected == HeatMapPlan(stride=2, sample=9, seed=3).selected(16, 16)
    assert selected != HeatMapPlan(stride=2, sample=9, seed=4).selected(16, 16)
    shards = [HeatMapPlan(stride=2, sample=9, seed=3, shard=(i, 4)).shard_pairs(16, 16) for i in range(4)]
    assert sorted(pair for shard in shards for pair in shard) == selected
    assert [len(shard) for shard in shards] == [3, 2, 2, 2]


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (dict(stride=0), "--heatmap-stride"),
        (dict(sample=1), "--heatmap-sample"),
        (dict(shard=(2, 2)), "0-based"),
    ],
)
def test_bad_plans_are_one_line_errors(plan, message):
    with pytest.raises(ConfigError, match=message):
        HeatMapPlan(**plan)


def test_a_sample_larger_than_the_selection_is_refused():
    with pytest.raises(ConfigError, match="exceeds the 10 frequency pairs"):
        HeatMapPlan(stride=4, sample=11).selected(16, 16)


def test_subset_maps_equal_the_full_map_on_their_cells(images_and_labels):
    images, labels = images_and_labels
    model = small_network()
    full = fourier_heat_map(model, images, labels, eps=3.0, seed=5, settings=FP32).error
    for plan in (HeatMapPlan(stride=2), HeatMapPlan(sample=11, seed=2), HeatMapPlan(stride=3, max_radius=0.3)):
        part = fourier_heat_map(model, images, labels, eps=3.0, frequencies=plan.selected(10, 12), seed=5,
                                settings=FP32).error
        evaluated = ~torch.isnan(part)
        cells = {pair for pair in plan.selected(10, 12)} | {conjugate(p, 10, 12) for p in plan.selected(10, 12)}
        assert int(evaluated.sum()) == len(cells)
        assert torch.equal(part[evaluated], full[evaluated])


def test_shards_merge_into_the_full_map_exactly(images_and_labels):
    images, labels = images_and_labels
    model = small_network()
    full = fourier_heat_map(model, images, labels, eps=3.0, seed=5, settings=FP32)
    documents = []
    for index in (2, 0, 1):  # any order
        plan = HeatMapPlan(shard=(index, 3))
        section = fourier_heat_map(model, images, labels, eps=3.0, frequencies=plan.shard_pairs(10, 12), seed=5,
                                   settings=FP32).to_dict()
        section.update(plan.describe(10, 12), max_radius=None)
        documents.append((f"shard-{index}", {"run": "../run", "model": "m", "heatmap": section}))
    merged = merge_heatmaps(documents)
    assert merged["error"] == full.to_dict()["error"]
    assert merged["mean_error"] == pytest.approx(full.to_dict()["mean_error"], abs=1e-15)
    assert merged["evaluated_pairs"] == len(canonical_frequencies(10, 12)) and merged["complete"]
    assert merged["cost"]["seconds_per_basis_image"] > 0
    with pytest.raises(ConfigError, match=r"missing \[1\]"):
        merge_heatmaps([documents[0], documents[1]])
    with pytest.raises(ConfigError, match=r"repeated \[2\]"):
        merge_heatmaps([documents[0], documents[0], documents[1], documents[2]])
    other = json.loads(json.dumps(documents[1][1]))
    other["heatmap"]["eps"] = 2.0
    with pytest.raises(ConfigError, match="heatmap.eps"):
        merge_heatmaps([documents[0], ("changed", other), documents[2]])


def test_sampled_estimate_is_the_weighted_sample_mean_with_a_finite_population_t_interval():
    generator = torch.Generator().manual_seed(0)
    error = torch.rand(8, 8, generator=generator, dtype=torch.float64)
    for y in range(8):  # a heat map is symmetric under conjugation
        for x in range(8):
            error[conjugate((y, x), 8, 8)] = error[y, x]
    plan = HeatMapPlan(sample=12, seed=1)
    population = plan.population(8, 8)
    weights = {pair: 1 if conjugate(pair, 8, 8) == pair else 2 for pair in population}
    y = np.array([len(population) * weights[p] * float(error[p]) / 64 for p in plan.selected(8, 8)])
    half = stats.t.ppf(0.975, 11) * y.std(ddof=1) / math.sqrt(12) * math.sqrt(1 - 12 / len(population))
    estimate = sampled_mean_estimate(error, plan)
    assert estimate["mean_error"] == pytest.approx(y.mean(), abs=1e-14)
    assert (estimate["ci_low"], estimate["ci_high"]) == pytest.approx((y.mean() - half, y.mean() + half), abs=1e-14)
    whole = sampled_mean_estimate(error, HeatMapPlan(sample=len(population)))  # the census: exact, no width
    assert whole["mean_error"] == pytest.approx(float(error.mean()), abs=1e-14)
    assert whole["ci_low"] == pytest.approx(whole["ci_high"], abs=1e-14)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, shared_data):
    from freqprobe.train import config_from_dict, run_training

    folder = tmp_path_factory.mktemp("heat") / "run"
    config = config_from_dict({"dataset": "fashion-mnist", "epochs": 1, "subset": 32, "batch_size": 32,
                               "limit_eval": 50, "data_dir": str(shared_data)})
    run_training(config, folder, progress=False)
    return folder


def test_cli_shards_and_merge_equal_one_call_and_record_the_cost(tiny_run, tmp_path, capsys):
    common = ["--heatmap", "--heatmap-max-radius", "0.12", "--subset", "6", "--precision", "fp32", "--batch-size", "6",
              "--quiet"]
    assert cli.main(["sensitivity", str(tiny_run), "--out", str(tmp_path / "full"), *common]) == 0
    for index in range(3):
        out = tmp_path / f"shard-{index}"
        assert cli.main(["sensitivity", str(tiny_run), "--out", str(out), "--shard", f"{index}/3", *common]) == 0
    folders = [str(tmp_path / f"shard-{index}") for index in range(3)]
    assert cli.main(["sensitivity", "--merge", *folders, "--out", str(tmp_path / "merged")]) == 0
    full = json.loads((tmp_path / "full" / "sensitivity.json").read_text())["heatmap"]
    merged_document = json.loads((tmp_path / "merged" / "sensitivity.json").read_text())
    merged = merged_document["heatmap"]
    assert merged["error"] == full["error"] and merged["mean_error"] == full["mean_error"]
    assert merged["selection"]["grid_pairs"] == 28 * 28 // 2 + 2
    assert merged["evaluated_pairs"] == len(canonical_frequencies(28, 28, 0.12)) == full["evaluated_pairs"]
    assert full["cost"]["seconds_per_basis_image"] > 0 and full["cost"]["estimated_full_grid_seconds"] > 0
    assert merged_document["run"] == os.path.relpath(tiny_run, tmp_path / "merged")
    assert (tmp_path / "merged" / "fourier_heatmap.png").is_file()
    printed = capsys.readouterr().out
    assert "heat map cost" in printed
    assert cli.main(["sensitivity", "--merge", *folders[:2], "--out", str(tmp_path / "broken")]) == 2
    assert "missing [2]" in capsys.readouterr().err
    assert cli.main(["sensitivity", str(tiny_run), "--merge", folders[0], "--out", str(tmp_path / "x")]) == 2
    assert "leave out RUN" in capsys.readouterr().err


def test_cli_sample_reports_the_estimate_with_its_interval(tiny_run, tmp_path, capsys):
    args = ["sensitivity", str(tiny_run), "--out", str(tmp_path / "s"), "--heatmap", "--heatmap-stride", "2",
            "--heatmap-sample", "8", "--subset", "6", "--precision", "fp32", "--quiet"]
    assert cli.main(args) == 0
    heat = json.loads((tmp_path / "s" / "sensitivity.json").read_text())["heatmap"]
    assert heat["evaluated_pairs"] == 8 and heat["selection"]["population_pairs"] == 14 * 14 // 2 + 2
    estimate = heat["mean_error_estimate"]
    assert estimate["ci_low"] <= estimate["mean_error"] <= estimate["ci_high"]
    assert not math.isnan(estimate["ci_high"] - estimate["ci_low"])

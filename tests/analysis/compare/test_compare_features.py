"""Feature-map columns and depth profiles of ``freqprobe compare``, from features.json files in the real format."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from freqprobe.analysis import compare as C
from freqprobe.analysis.compare.features import FeatureSpectra, depth_profile, feature_columns
from freqprobe.errors import ConfigError
from freqprobe.plots.depth_profiles import depth_curves


def layer(name: str, kind: str, depth: int, delta: float, centroid: float) -> dict:
    return {"name": name, "kind": kind, "depth": depth, "shape": [4, 8, 8], "maps": 40,
            "delta_log_amplitude": delta, "spectral_centroid": centroid}  # fmt: skip


def entry(run: str, deltas: tuple[float, ...], shares: tuple[float, ...] = (0.1, 0.3)) -> dict:
    """A features.json run entry: the input, one block output, and a convolution per value of ``deltas``."""
    layers = [layer("normalize", "input", 0, -5.0, 0.05), layer("layer1.0", "block", 9, 7.0, 0.4)]
    layers += [layer(f"conv{k}", "conv", 2 * k + 1, value, 0.1 * (k + 1)) for k, value in enumerate(deltas)]
    sites = [{"name": f"down{k}", "stride": [2, 2], "aliasing_share": share} for k, share in enumerate(shares)]
    return {"run": run, "model": "resnet20", "filter": "none", "layers": layers[::-1], "subsampling": sites}


def document(*entries: dict) -> dict:
    return {"subset": 100, "layers": "default", "definitions": {}, "runs": list(entries)}


def test_feature_columns_summarize_the_convolutions_in_forward_order():
    columns = feature_columns(entry("r", (-4.0, -3.0, -1.0)))
    assert columns["feature_delta_log_mean"] == pytest.approx(-8.0 / 3.0)  # input and block outputs left out
    assert columns["feature_delta_log_last"] == -1.0  # the deepest convolution, whatever the list order
    assert columns["feature_centroid_mean"] == pytest.approx(0.2)
    assert columns["feature_aliasing_mean"] == pytest.approx(0.2)
    assert feature_columns({"layers": [], "subsampling": []}) == dict.fromkeys(columns)
    assert depth_profile(entry("r", (-4.0, -3.0, -1.0))) == [(0.0, -4.0), (0.5, -3.0), (1.0, -1.0)]


def test_runs_are_found_in_their_own_analysis_first_then_in_the_given_files(tmp_path):
    shared = tmp_path / "sweep" / "features" / "features.json"
    shared.parent.mkdir(parents=True)
    shared.write_text(json.dumps(document(entry("../runs/a", (-1.0,)), entry("../runs/b", (-2.0,)))))
    own = tmp_path / "sweep" / "runs" / "b" / "analysis" / "features.json"
    own.parent.mkdir(parents=True)
    own.write_text(json.dumps(document(entry("..", (-9.0,)))))
    spectra = FeatureSpectra([shared])
    found_a = spectra.of_run(tmp_path / "sweep" / "runs" / "a", None)
    assert found_a[1] == shared and feature_columns(found_a[0])["feature_delta_log_last"] == -1.0
    found_b = spectra.of_run(tmp_path / "sweep" / "runs" / "b", own)
    assert found_b[1] == own and feature_columns(found_b[0])["feature_delta_log_last"] == -9.0
    assert spectra.of_run(tmp_path / "sweep" / "runs" / "c", None) is None


def test_a_given_file_that_is_not_a_features_json_is_one_clear_error(tmp_path):
    bad = tmp_path / "features.json"
    bad.write_text('{"layers": []}')
    with pytest.raises(ConfigError, match=f"{bad} is not a features.json of freqprobe features"):
        FeatureSpectra([bad])
    with pytest.raises(ConfigError, match="is not a features.json"):
        FeatureSpectra([tmp_path / "missing.json"])


class Variant:
    def __init__(self, label: str, runs: list[str], dataset: str = "fashion-mnist"):
        self.label, self.runs, self.identity = label, runs, {"dataset": dataset}


def test_depth_curves_average_seeds_with_a_student_t_band():
    rows = [{"run": name} for name in ("a0", "a1", "a2", "b0")]
    profiles = {
        "a0": {"kernel": [(0.0, 0.30), (1.0, 0.20)], "features": [(0.0, -4.0), (1.0, -2.0)]},
        "a1": {"kernel": [(0.0, 0.34), (1.0, 0.26)], "features": [(0.0, -5.0), (1.0, -1.0)]},
        "a2": {"kernel": [(0.0, 0.32), (1.0, 0.29)], "features": [(0.0, -4.5), (1.0, -1.5)]},
        "b0": {"kernel": [(0.0, 0.1)]},
    }
    curves = depth_curves([Variant("A", ["a0", "a1", "a2"]), Variant("B", ["b0"])], rows, profiles)
    kernel = curves["fashion-mnist"]["A"]["kernel"]
    assert kernel["depth"] == [0.0, 1.0] and kernel["n"] == 3
    second = np.array([0.20, 0.26, 0.29])
    low, high = stats.t.interval(0.95, df=2, loc=second.mean(), scale=stats.sem(second))
    assert kernel["mean"][1] == pytest.approx(second.mean())
    assert (kernel["low"][1], kernel["high"][1]) == (pytest.approx(low), pytest.approx(high))
    assert curves["fashion-mnist"]["A"]["features"]["mean"] == pytest.approx([-4.5, -1.5])
    single = curves["fashion-mnist"]["B"]["kernel"]  # one seed: a curve, no band
    assert single["n"] == 1 and single["low"] is None and "features" not in curves["fashion-mnist"]["B"]


def test_kernel_depth_profile_leaves_out_spatially_flat_layers_but_counts_missing_ranks():
    from freqprobe.analysis.compare.features import kernel_depth_profile

    layers = [{"name": "stem", "spectral_centroid_mean": 0.3}, {"name": "pw", "spatially_flat": True,
              "spectral_centroid_mean": 0.38}, {"name": "a", "spectral_centroid_mean": None},
              {"name": "b", "spectral_centroid_mean": 0.2}]  # fmt: skip
    assert kernel_depth_profile(layers) == [(0.0, 0.3), (1.0, 0.2)]


def test_compare_takes_feature_columns_and_draws_depth_profiles(shared_data, tmp_path):
    from test_compare_sweep import FIT_IMAGES, class_mean_model, write_run

    from freqprobe.data import load_splits
    from freqprobe.train.prepare import stratified_first

    splits = load_splits("fashion-mnist", root=shared_data)
    train = splits.train.select(stratified_first(splits.train.labels, FIT_IMAGES))
    names = []
    for seed in (0, 1):
        name = f"fashion-mnist__resnet20__none__seed{seed}"
        write_run(tmp_path / "runs" / name, "none", seed, class_mean_model(train.images, train.labels, "none", seed),
                  shared_data, 0.8 + seed / 100)
        names.append(name)
    features = tmp_path / "features" / "features.json"
    features.parent.mkdir()
    features.write_text(json.dumps(document(*(entry(f"../runs/{name}", (-4.0 + k, -2.0 + k)) for k, name in
                                              enumerate(names)))))
    comparison = C.compare_sweep(tmp_path, subset=50, log=lambda message: None, features=[features])
    rows = {row["run"]: row for row in comparison.rows}
    assert rows[names[0]]["feature_delta_log_mean"] == pytest.approx(-3.0)
    assert rows[names[1]]["feature_delta_log_last"] == pytest.approx(-1.0)
    assert rows[names[1]]["features_source"] == str(features)
    assert "feature_delta_log_mean" in comparison.metric_columns and "features_source" in comparison.columns
    stats_of = comparison.variants[0].stats["feature_delta_log_mean"]
    assert stats_of["n"] == 2 and stats_of["mean"] == pytest.approx(-2.5)
    assert comparison.depth_profiles[names[0]]["features"] == [(0.0, -4.0), (1.0, -2.0)]
    assert len(comparison.depth_profiles[names[0]]["kernel"]) > 2  # computed from the weights (no filters.json)
    written = C.write_comparison(comparison, tmp_path / "compare")
    assert written["depth_profiles"].is_file()
    saved = json.loads((tmp_path / "compare" / "compare.json").read_text())
    assert saved["depth_profiles"][names[1]]["features"] == [[0.0, -3.0], [1.0, -1.0]]
    assert "depth_profiles.png" in saved["captions"] and not math.isnan(saved["rows"][0]["feature_centroid_mean"])


def test_the_strongest_link_is_the_largest_absolute_rho_between_a_characteristic_and_an_outcome(tmp_path):
    from types import SimpleNamespace

    from freqprobe.plots.compare import plot_strongest_links, strongest_links

    def rho(value, p=0.1):
        return {"rho": value, "ci_low": None, "ci_high": None, "p_value": p, "n": 4}

    columns = ["kernel_centroid_first", "feature_delta_log_mean", "clean_accuracy", "robust_accuracy",
               "corruption_accuracy"]
    matrix = {a: {b: rho(None) for b in columns} for a in columns}
    matrix["kernel_centroid_first"]["robust_accuracy"] = rho(-0.6)
    matrix["feature_delta_log_mean"]["corruption_accuracy"] = rho(0.8, 0.05)
    matrix["feature_delta_log_mean"]["clean_accuracy"] = rho(-0.8, 0.2)  # as strong, larger p: not chosen
    matrix["clean_accuracy"]["robust_accuracy"] = rho(-1.0)  # two outcomes: not a link
    variants = [SimpleNamespace(label=f"v{k}", identity={"dataset": "fashion-mnist", "model": "resnet20",
                                                         "filter": "none"},
                                stats={name: {"mean": 0.1 * k + j, "ci_low": None, "ci_high": None}
                                       for j, name in enumerate(columns)}) for k in range(4)]  # fmt: skip
    comparison = SimpleNamespace(correlations=matrix, correlations_by_group={}, metric_columns=columns,
                                 variants=variants, rows=[{"filter": "none", "dataset": "fashion-mnist"}])
    link = strongest_links(comparison)[""]
    assert link[:2] == ("feature_delta_log_mean", "corruption_accuracy") and link[3] == 3  # 2 x 3 pairs, 3 defined
    # BH over the 3 defined pairs' p (0.1, 0.2, 0.05): sorted p m / rank = 0.15, 0.15, 0.2, so the chosen 0.05 -> 0.15
    assert link[4] == pytest.approx(0.15)
    assert plot_strongest_links(comparison, "test", tmp_path / "link.png") and (tmp_path / "link.png").is_file()

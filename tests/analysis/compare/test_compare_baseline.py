"""Paired differences against the baseline variant: same dataset, model and options, matched by seed."""

from __future__ import annotations

import pytest
from scipy import stats

from freqprobe.analysis.compare.baseline import check_baseline, paired_differences
from freqprobe.analysis.compare.variants import summarize_variants
from freqprobe.errors import ConfigError

ACCURACY = {  # (filter, antialias) -> clean accuracy per seed 0, 1, 2
    ("none", False): [0.930, 0.925, 0.935],
    ("highpass:2", False): [0.926, 0.921, 0.934],
    ("none", True): [0.940, 0.930, 0.938],
    ("highpass:2", True): [0.941, 0.925],  # seed 2 missing: paired over seeds 0 and 1
}


def rows():
    return [
        {"run": f"{spec}-{antialias}-{seed}", "dataset": "fashion-mnist", "model": "resnet20", "filter": spec,
         "seed": seed, "antialias": antialias, "clean_accuracy": value}
        for (spec, antialias), values in ACCURACY.items() for seed, value in enumerate(values)
    ]


def test_each_variant_is_paired_with_the_baseline_of_its_own_options():
    variants = summarize_variants(rows(), ["antialias"])
    entries = {(entry["variant"], entry["column"]): entry for entry in paired_differences(variants, "none")}
    plain = entries[("highpass:2, antialias=False", "clean_accuracy")]
    assert plain["baseline"] == "none, antialias=False" and plain["seeds"] == [0, 1, 2]
    reference = stats.ttest_rel(ACCURACY[("highpass:2", False)], ACCURACY[("none", False)]).confidence_interval()
    assert (plain["ci_low"], plain["ci_high"]) == pytest.approx((reference.low, reference.high))
    assert plain["ci_low"] < 0.0 < plain["ci_high"]
    antialiased = entries[("highpass:2, antialias=True", "clean_accuracy")]
    assert antialiased["baseline"] == "none, antialias=True" and antialiased["seeds"] == [0, 1]
    assert antialiased["mean"] == pytest.approx(((0.941 - 0.940) + (0.925 - 0.930)) / 2)
    assert not any(entry["variant"].startswith("none") for entry in entries.values())  # no baseline minus itself
    assert paired_differences(variants, None) == []


def test_the_baseline_is_checked_against_the_runs_filters():
    assert check_baseline(None, ["none", "blur:2"]) == "none"
    assert check_baseline(None, ["blur:2", "blur:4"]) is None  # default and no unfiltered run: no differences
    assert check_baseline("blur:2", ["none", "blur:2"]) == "blur:2"
    with pytest.raises(ConfigError, match=r"--baseline 'blur:3' matches no run; .* blur:2, none"):
        check_baseline("blur:3", ["none", "blur:2"])

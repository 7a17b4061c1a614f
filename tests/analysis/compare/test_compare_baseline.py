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


def filters(*specs):
    return [{"dataset": "fashion-mnist", "model": "resnet20", "filter": spec} for spec in specs]


def test_the_baseline_is_checked_against_the_runs_filters():
    assert check_baseline(None, filters("none", "blur:2")) == "none"
    assert check_baseline(None, filters("blur:2", "blur:4")) is None  # default and no unfiltered run: no differences
    assert check_baseline("blur:2", filters("none", "blur:2")) == "blur:2"
    with pytest.raises(ConfigError, match=r"--baseline 'blur:3' matches no run; .*filter: blur:2, none"):
        check_baseline("blur:3", filters("none", "blur:2"))


AUGMENTED = {  # (augment_noise, apr) -> clean accuracy per seed 0, 1, 2
    (None, None): [0.801, 0.795, 0.806],
    ("gaussian:0.1", None): [0.713, 0.720, 0.709],
    (None, "ps"): [0.753, 0.760, 0.749],
}


def augmented_rows():
    return [
        {"run": f"{noise}-{apr}-{seed}", "dataset": "cifar10", "model": "resnet20", "filter": "none", "seed": seed,
         "augment_noise": noise, "apr": apr, "clean_accuracy": value}
        for (noise, apr), values in AUGMENTED.items() for seed, value in enumerate(values)
    ]


def test_a_field_baseline_pairs_each_option_variant_with_plain_training():
    variants = summarize_variants(augmented_rows(), ["augment_noise", "apr"])
    entries = {entry["variant"]: entry for entry in paired_differences(variants, "augment_noise=none, apr=none")}
    assert sorted(entries) == ["apr=ps", "augment_noise=gaussian:0.1"]
    noise = entries["augment_noise=gaussian:0.1"]
    assert noise["baseline"] == "augment_noise=none, apr=none" and noise["seeds"] == [0, 1, 2]
    reference = stats.ttest_rel(AUGMENTED[("gaussian:0.1", None)], AUGMENTED[(None, None)]).confidence_interval()
    assert (noise["ci_low"], noise["ci_high"]) == pytest.approx((reference.low, reference.high))
    assert noise["ci_high"] < 0  # a drop of about 9 points: the interval excludes zero
    # one field named: the baseline of each variant differs from it in that field only
    by_apr = {entry["variant"] for entry in paired_differences(variants, "apr=none")}
    assert by_apr == {"apr=ps"}


def test_a_field_baseline_is_checked_against_the_runs():
    identities = [{key: row[key] for key in ("dataset", "model", "filter", "augment_noise", "apr")}
                  for row in augmented_rows()]
    assert check_baseline("augment_noise=none,apr=none", identities) == "augment_noise=none,apr=none"
    assert check_baseline("model=resnet20", identities) == "model=resnet20"
    with pytest.raises(ConfigError, match=r"'cutout=0': cutout is no field .* use one of apr, augment_noise, "
                       r"dataset, filter, model"):
        check_baseline("cutout=0", identities)
    with pytest.raises(ConfigError, match=r"matches no run; the compared runs have apr: none, ps"):
        check_baseline("apr=ps2", identities)
    with pytest.raises(ConfigError, match=r"'apr=' is not FIELD=VALUE"):
        check_baseline("apr=", identities)


def test_a_field_baseline_matches_numbers_by_value_and_booleans_without_case():
    rows = [{"run": f"{epochs}-{seed}", "dataset": "fashion-mnist", "model": "resnet20", "filter": "none",
             "seed": seed, "epochs": epochs, "antialias": False, "clean_accuracy": 0.9 + epochs / 1000 + seed / 100}
            for epochs in (10, 20) for seed in range(2)]
    variants = summarize_variants(rows, ["epochs", "antialias"])
    entries = paired_differences(variants, "epochs=10.0")
    assert [(entry["variant"], entry["baseline"]) for entry in entries] == [("epochs=20", "epochs=10")]
    assert entries[0]["mean"] == pytest.approx(0.01)
    identities = [{key: row[key] for key in ("dataset", "model", "filter", "epochs", "antialias")} for row in rows]
    assert check_baseline("antialias=FALSE", identities) == "antialias=FALSE"
    with pytest.raises(ConfigError, match="names epochs twice"):
        check_baseline("epochs=10,epochs=20", identities)

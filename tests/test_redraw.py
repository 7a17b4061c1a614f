"""``freqprobe.redraw`` / scripts/redraw_results.py on a copy of a committed results folder: every figure its stored
numbers allow is redrawn, the old attack naming is brought to the budget as written, and no number changes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUN = REPO / "results" / "fashion-mnist-resnet20-fast"
SPECTRA = REPO / "results" / "spectra" / "fashion-mnist"


def without(mapping: dict, *keys: str) -> dict:
    return {key: value for key, value in mapping.items() if key not in keys}


def as_written_before_budgets(document: dict) -> dict:
    """``sensitivity.json`` as freqprobe wrote it before attack budgets were kept as typed (key and figure named by
    the rounded decimal, no ``budget``) and before corruptions existed: the committed file, turned back."""
    old_key, old_figure = "pgd-linf-eps0.03137", "attack_pgd-linf-eps0.03137.png"
    (key, attack), = document["attacks"].items()
    assert key == "pgd-linf-eps8/255"
    new_figure = attack["figure"]
    document["attacks"] = {old_key: {**without(attack, "budget"), "figure": old_figure}}
    figures = without(document["figures"], f"attack:{key}", "corruptions", "corruptions_prediction")
    document["figures"] = {**figures, f"attack:{old_key}": old_figure}
    captions = without(document["captions"], new_figure, "corruption_errors.png", "corruption_prediction.png")
    captions[old_figure] = document["captions"][new_figure].replace("eps 8/255", "eps 0.03137")
    document["captions"] = captions
    document.pop("corruptions", None)
    return document


def test_redraw_a_committed_run_from_its_json_alone(tmp_path):
    run = tmp_path / RUN.name
    shutil.copytree(RUN, run, ignore=shutil.ignore_patterns("*.png", "*.html"))
    shutil.copytree(SPECTRA, tmp_path / "spectra", ignore=shutil.ignore_patterns("*.png"))
    results = run / "analysis" / "sensitivity.json"
    results.write_text(json.dumps(as_written_before_budgets(json.loads(results.read_text()))))
    before = json.loads(results.read_text())
    assert list(before["attacks"]) == ["pgd-linf-eps0.03137"]  # as written before budgets were kept as typed

    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "redraw_results.py"), str(tmp_path), "--check-layout"],
        capture_output=True, text=True, cwd=tmp_path, timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not redrawn: " in result.stdout and "spectrum.json: dataset spectra need the images" in result.stdout

    assert sorted(path.name for path in (run / "analysis").glob("*.png")) == sorted([
        "attack_pgd-linf-eps8over255.png", "band_ablation.png", "fourier_heatmap.png", "gradient_spectrum.png",
        "shift_consistency.png", "first_layer_kernels.png", "kernel_centroid_histograms.png",
        "kernel_high_frequency_histograms.png", "kernel_orientation_histograms.png", "kernel_radial_profiles.png",
        "singular_values.png",
    ])
    assert (run / "learning_curve.png").is_file()
    assert not list((tmp_path / "spectra").glob("*.png"))  # nothing drawn without the images

    after = json.loads((run / "analysis" / "sensitivity.json").read_text())
    (old,), (new,) = before["attacks"].values(), after["attacks"].values()
    assert list(after["attacks"]) == ["pgd-linf-eps8/255"] and new["budget"] == "8/255"
    assert new["figure"] == after["figures"]["attack:pgd-linf-eps8/255"] == "attack_pgd-linf-eps8over255.png"
    assert "eps 8/255 in pixel units" in after["captions"]["attack_pgd-linf-eps8over255.png"]
    assert without(new, "figure", "budget") == without(old, "figure")  # no number changed
    for section in ("bands", "heatmap", "gradient_spectrum", "shift"):
        assert after[section] == before[section]

"""The files of a comparison name folders relative to the output folder: no machine path in compare.md/json/csv."""

from __future__ import annotations

import json

from freqprobe.analysis.compare import Comparison, FolderNames, write_comparison


def one_run_comparison(sweep) -> Comparison:
    run = sweep / "runs" / "a"
    row = {"run": "a", "dataset": "fashion-mnist", "model": "resnet20", "filter": "none", "seed": 0,
           "clean_accuracy": 0.9, "kernel_source": str(run / "analysis" / "filters.json"), "sensitivity_source": None}
    return Comparison(
        sweep_dir=str(sweep), sweeps=[str(sweep)], subset=10, rows=[row],
        columns=["run", "dataset", "model", "filter", "seed", "clean_accuracy", "kernel_source"],
        metric_columns=["clean_accuracy"], correlations={"clean_accuracy": {"clean_accuracy": {"rho": None, "n": 1}}},
        layer_correlations=[], band_matrices=[], notes=[f"b: incomplete, left out ({sweep}/runs/b/metrics.json is missing)"],
    )


def test_outputs_name_the_sweep_by_its_folder_not_by_this_machines_path(tmp_path):
    sweep = tmp_path / "work" / "runs" / "reproduce-fm-fast"
    out = tmp_path / "results" / "compare"
    write_comparison(one_run_comparison(sweep), out)
    markdown = (out / "compare.md").read_text()
    assert markdown.startswith("# Links across the runs of reproduce-fm-fast\n")
    for name in ("compare.md", "compare.json", "compare.csv"):
        assert str(tmp_path) not in (out / name).read_text(), name
    saved = json.loads((out / "compare.json").read_text())
    assert saved["sweep"] == "reproduce-fm-fast" and saved["sweeps"] == ["reproduce-fm-fast"]
    assert saved["rows"][0]["kernel_source"] == "reproduce-fm-fast/runs/a/analysis/filters.json"
    assert saved["notes"] == ["b: incomplete, left out (reproduce-fm-fast/runs/b/metrics.json is missing)"]


def test_folder_names_are_relative_below_the_output_and_base_names_elsewhere(tmp_path):
    names = FolderNames(tmp_path / "out", [tmp_path / "sweeps" / "s1", tmp_path / "out" / "s2"])
    assert names.name(tmp_path / "out" / "s2") == "s2"
    assert names.name(tmp_path / "out" / "s2" / "runs" / "x") == "s2/runs/x"
    assert names.name(tmp_path / "sweeps" / "s1" / "runs" / "x" / "f.json") == "s1/runs/x/f.json"
    assert names.name(tmp_path / "sweeps" / "s1") == "s1"
    assert names.name(tmp_path / "elsewhere" / "data") == "data"
    assert names.name(tmp_path / "out") == "."

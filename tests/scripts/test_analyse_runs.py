"""scripts/analyse_runs.sh: every analysis once per complete run, shared by parallel workers, failures marked.

The script is bash around the freqprobe CLI; here a stand-in ``freqprobe`` on PATH writes what each real command
writes (filters.json, the sensitivity.json sections, features.json) and logs each call, so the test checks the
script's own logic: what it skips, what it claims, what it retries and what it reports.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "analyse_runs.sh"

STAND_IN = r'''#!/usr/bin/env python3
import json, os, sys, time
args = sys.argv[1:]
command, target = args[0], args[1]
with open(os.environ["CALL_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")
time.sleep(0.2)  # long enough for two workers to meet on a run
if command == "report":
    open(os.path.join(target, "report.html"), "w").write("<html></html>")
if command in ("compare", "report"):
    sys.exit(0)
out = args[args.index("--out") + 1]
if os.path.basename(target.rstrip("/")) in os.environ.get("FAIL_RUNS", "").split():
    print(f"{command} failed on {target}", file=sys.stderr)
    sys.exit(2)
os.makedirs(out, exist_ok=True)
if command == "filters":
    open(os.path.join(out, "filters.json"), "w").write("{}")
elif command == "features":
    open(os.path.join(out, "features.json"), "w").write("{}")
elif command == "sensitivity":
    path = os.path.join(out, "sensitivity.json")
    found = json.load(open(path)) if os.path.exists(path) else {}
    if "--attack" in args:
        found.setdefault("attacks", {})["pgd-linf-eps" + args[args.index("--eps") + 1]] = {}
    else:
        mode = next(a for a in args if a in ("--bands", "--heatmap", "--gradient-spectrum", "--shift", "--corruptions"))
        found[mode[2:].replace("-", "_")] = {}
    json.dump(found, open(path, "w"))
'''


@pytest.fixture
def folder(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stand_in = bin_dir / "freqprobe"
    stand_in.write_text(STAND_IN)
    stand_in.chmod(0o755)
    root = tmp_path / "sweep"
    for name in ("a", "b", "c", "d"):
        (root / "runs" / name).mkdir(parents=True)
    for name in ("a", "b", "c"):  # d is still training: no metrics.json
        (root / "runs" / name / "metrics.json").write_text("{}")
    return root


def environment(folder: Path, **env: str) -> dict[str, str]:
    log = folder.parent / "calls.jsonl"
    log.unlink(missing_ok=True)
    return {**os.environ, "PATH": f"{folder.parent / 'bin'}{os.pathsep}{os.environ['PATH']}", "CALL_LOG": str(log),
            **env}


def logged_calls(folder: Path) -> list[list[str]]:
    log = folder.parent / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def analyse(folder: Path, **env: str) -> tuple[subprocess.CompletedProcess, list[list[str]]]:
    result = subprocess.run(["bash", str(SCRIPT), str(folder), "50", "2", "none"], capture_output=True, text=True,
                            env=environment(folder, **env), timeout=120)
    return result, logged_calls(folder)


def step(call: list[str]) -> str:
    if call[0] != "sensitivity":
        return call[0]
    return "pgd " + call[call.index("--eps") + 1] if "--attack" in call else call[2]


def test_two_workers_run_each_analysis_once_per_complete_run(folder):
    result, calls = analyse(folder, ANALYSIS_WORKERS="2")
    assert result.returncode == 0, result.stdout + result.stderr
    per_run = Counter((Path(call[1]).name, step(call)) for call in calls if call[0] not in ("compare",)
                      and Path(call[1]).parent.name == "runs")
    expected = ["filters", "--bands", "--heatmap", "--gradient-spectrum", "--shift", "pgd 2/255", "pgd 8/255",
                "--corruptions", "features"]
    for run in ("a", "b", "c"):
        assert all(per_run[(run, name)] == 1 for name in expected), per_run
    assert not any(run == "d" for run, _ in per_run)
    analysed = sorted(line.rsplit("/", 1)[-1] for line in result.stdout.splitlines() if line.startswith("analysed"))
    assert analysed == ["a", "b", "c"]  # each run once: a worker does not redo what the other has just finished
    assert "skipped" in result.stdout and "runs/d" in result.stdout
    assert [call[0] for call in calls].count("compare") == 1
    assert ["--baseline", "none"] == calls[[c[0] for c in calls].index("compare")][-2:]
    assert {c[c.index("--heatmap-stride") + 1] for c in calls if "--heatmap-stride" in c} == {"2"}

    again, calls = analyse(folder, ANALYSIS_WORKERS="2")  # resumes: nothing is left but the reports and compare
    assert again.returncode == 0
    assert [call[0] for call in calls] == ["compare", "report"]  # the runs' pages are newer than their analyses


def test_attack_eps_chooses_the_attacks(folder):
    result, calls = analyse(folder, ATTACK_EPS="2/255")
    assert result.returncode == 0
    assert sorted(step(call) for call in calls if "--attack" in call) == ["pgd 2/255"] * 3


def test_analysis_precision_reaches_every_sensitivity_call_and_only_those(folder):
    result, calls = analyse(folder, ATTACK_EPS="2/255", ANALYSIS_PRECISION="fp32")
    assert result.returncode == 0, result.stdout + result.stderr
    sensitivity = [call for call in calls if call[0] == "sensitivity"]
    assert len(sensitivity) == 3 * 6  # bands, heat map, gradient spectrum, shift, one attack, corruptions
    assert all(call[call.index("--precision") + 1] == "fp32" for call in sensitivity)
    assert not any("--precision" in call for call in calls if call[0] != "sensitivity")
    (folder / "runs" / "a" / "analysis" / "sensitivity.json").unlink()  # run a analysed again, unpinned
    _, calls = analyse(folder, ATTACK_EPS="2/255")
    assert {call[call.index("--precision") + 1] for call in calls if call[0] == "sensitivity"} == {"auto"}
    assert {Path(call[1]).name for call in calls if call[0] == "sensitivity"} == {"a"}


def test_a_failed_run_is_marked_and_the_others_go_on(folder):
    result, _ = analyse(folder, ANALYSIS_WORKERS="2", FAIL_RUNS="b")
    assert result.returncode == 1
    assert "FAILED" in result.stdout and "1 run(s) with a failed analysis" in result.stdout
    assert (folder / "runs" / "b" / "analysis" / "failed.txt").is_file()
    for run in ("a", "c"):
        assert (folder / "runs" / run / "analysis" / "features.json").is_file()
    retried, _ = analyse(folder)  # fixed: the next run of the script retries it and clears the mark
    assert retried.returncode == 0
    assert not (folder / "runs" / "b" / "analysis" / "failed.txt").exists()


@pytest.mark.parametrize("workers", ["0", "two", "-1"])
def test_an_impossible_worker_count_is_one_line(folder, workers):
    result, calls = analyse(folder, ANALYSIS_WORKERS=workers)
    assert result.returncode == 2 and calls == []
    assert result.stdout.strip() == f"ANALYSIS_WORKERS must be 1 to 99 (runs analysed at a time), got '{workers}'"


def test_two_copies_of_the_script_share_a_folder_and_a_failed_run_fails_once(folder):
    env = environment(folder, FAIL_RUNS="b")
    command = ["bash", str(SCRIPT), str(folder), "50", "2", "none"]
    copies = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
              for _ in range(2)]
    outputs = [copy.communicate(timeout=120)[0] for copy in copies]
    calls = logged_calls(folder)
    filters = Counter(Path(call[1]).name for call in calls if call[0] == "filters")
    assert filters == {"a": 1, "b": 1, "c": 1}  # each run's first analysis ran once, by one copy or the other
    assert sum(output.count("FAILED") for output in outputs) == 1
    assert sorted(copy.returncode for copy in copies) == [0, 1]  # the copy that met the failure says so


def test_a_limited_pass_takes_one_unanalysed_run_and_leaves_compare_out(folder):
    (folder / "runs" / "a" / "analysis").mkdir()
    (folder / "runs" / "a" / "analysis" / "failed.txt").write_text("an analysis failed")
    result, calls = analyse(folder, ANALYSIS_LIMIT="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert {Path(call[1]).name for call in calls} == {"b"}  # a is marked failed: left to a full pass
    assert "compare" not in [call[0] for call in calls]
    result, calls = analyse(folder, ANALYSIS_LIMIT="1")
    assert {Path(call[1]).name for call in calls} == {"c"}  # b is done: the next pass moves on


def test_sweep_and_analyse_analyses_every_run_and_compares_once_training_ends(folder):
    stand_in = folder.parent / "bin" / "freqprobe"
    text = stand_in.read_text()
    # the stand-in's sweep: run c completes after a while, as a training job's run would
    (folder / "runs" / "c" / "metrics.json").unlink()
    stand_in.write_text(text.replace('if command in ("compare", "report"):', '''if command == "sweep":
    time.sleep(3)
    open(os.path.join(args[args.index("--out") + 1], "runs", "c", "metrics.json"), "w").write("{}")
    sys.exit(0)
if command in ("compare", "report"):'''))
    result = subprocess.run(["bash", str(REPO / "scripts" / "sweep_and_analyse.sh"), "spec.toml", str(folder), "2",
                             "50", "2", "none"], capture_output=True, text=True, env=environment(folder),
                            timeout=180, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    calls = logged_calls(folder)
    assert Counter(Path(call[1]).name for call in calls if call[0] == "features") == {"a": 1, "b": 1, "c": 1}
    assert [call[0] for call in calls].count("compare") == 1 and calls[-1][0] == "report"


@pytest.mark.parametrize("name, value, message", [
    ("ANALYSIS_WORKERS", "0", "ANALYSIS_WORKERS must be 1 to 99 (runs analysed at a time), got '0'"),
    ("ANALYSIS_LIMIT", "all", "ANALYSIS_LIMIT must be a positive whole number of runs per worker, got 'all'"),
    ("ANALYSIS_PRECISION", "fp16", "ANALYSIS_PRECISION must be auto, fp32 or bf16, got 'fp16'"),
])
def test_impossible_settings_are_one_line(folder, name, value, message):
    result, calls = analyse(folder, **{name: value})
    assert result.returncode == 2 and calls == [] and result.stdout.strip() == message

"""The top of a report: what the folder is and its headline results, before any figure.

- a run: its data (the CIFAR-10 JPEG copy named as such), model, filter, test and validation accuracy, clean against
  robust accuracy from its ``sensitivity.json`` when there is one, and its learning curve (``RUN/learning_curve.png``,
  drawn by ``freqprobe train``) when the folder has it;
- a comparison (``compare.json``): one row per variant (the runs that differ only in their seed), clean and robust
  accuracy;
- a sweep: the results table that ``freqprobe sweep`` writes into ``results.md`` (its first table, as written, so the
  table with intervals over seeds shows here as soon as the sweep writes it);
- an analysis folder: its key numbers (clean against robust accuracy for ``sensitivity.json``).

Accuracies are shown with :func:`freqprobe.tables.format_accuracy`, as every command prints them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from freqprobe.report.captions import read_json, shown_dataset
from freqprobe.report.markdown import first_table
from freqprobe.report.tables import Table
from freqprobe.runs import RunFolder
from freqprobe.tables import format_accuracy, is_number, natural_key, percent_number
from freqprobe.train.run_folder import CONFIG_FILE, METRICS_FILE

LEARNING_CURVE_FILE = "learning_curve.png"  # freqprobe.plots.learning_curve writes it into the run folder
SENSITIVITY_FILE = "sensitivity.json"


@dataclass
class Headline:
    """What the page shows first: key numbers as (label, value) pairs, a results table, the learning curve."""

    facts: list[tuple[str, str]] = field(default_factory=list)
    table: Table | None = None
    learning_curve: Path | None = None

    @property
    def is_empty(self) -> bool:
        return not self.facts and self.table is None and self.learning_curve is None


def collect_headline(root: Path, kind: str, where: str = "") -> Headline:
    """The headline results of ``root``, a folder of ``kind`` (see :func:`freqprobe.report.collect.folder_kinds`);
    ``where`` (``"compare/"``) names it in table titles when it is a sub-folder of the page's folder."""
    if kind == "run":
        return run_headline(root)
    if kind == "compare":
        return Headline(table=compare_results_table(read_json(root / "compare.json"), where))
    if kind == "sweep":
        return Headline(table=sweep_results_table(root, where))
    if kind == "sensitivity":
        sensitivity = read_json(root / SENSITIVITY_FILE)
        return Headline(facts=sensitivity_facts(sensitivity) if isinstance(sensitivity, dict) else [])
    return Headline()


# ----------------------------------------------------------------------------------------------------------------
# A run
# ----------------------------------------------------------------------------------------------------------------


def run_headline(root: Path) -> Headline:
    """Data, model, filter and accuracies of the run in ``root``; its robustness and learning curve when present."""
    record = read_json(root / CONFIG_FILE)
    record = record if isinstance(record, dict) else {}
    config = record.get("config") if isinstance(record.get("config"), dict) else record
    data = record.get("data") if isinstance(record.get("data"), dict) else {}
    metrics = read_json(root / METRICS_FILE)
    metrics = metrics if isinstance(metrics, dict) else {}
    facts = []
    dataset = shown_dataset(config.get("dataset"), data.get("source"))
    if dataset:
        facts.append(("data", dataset))
    model = str(config.get("model") or "")
    if model:
        conv = config.get("conv")
        facts.append(("model", model + (f", {conv} convolutions" if conv and conv != "standard" else "")))
    if config.get("filter"):
        facts.append(("input filter", f"{config['filter']} ({config.get('boundary', 'circular')} boundary)"))
    if config.get("spectral_reg"):
        facts.append(("spectral regularizer", str(config["spectral_reg"])))
    if is_number(metrics.get("test_accuracy")):
        images = data.get("test_images")
        facts.append(("test accuracy", format_accuracy(metrics["test_accuracy"])
                      + (f" on {images} test images" if is_number(images) else "")))
    if is_number(metrics.get("val_accuracy")):
        facts.append(("validation accuracy", format_accuracy(metrics["val_accuracy"])))
    training = _training_cost(metrics)
    if training:
        facts.append(("training", training))
    sensitivity_path = RunFolder(root).find_analysis(SENSITIVITY_FILE)
    sensitivity = read_json(sensitivity_path) if sensitivity_path is not None else None
    if isinstance(sensitivity, dict):
        facts += sensitivity_facts(sensitivity)
    curve = root / LEARNING_CURVE_FILE
    return Headline(facts=facts, learning_curve=curve if curve.is_file() else None)


def _training_cost(metrics: dict) -> str:
    parts = []
    if is_number(metrics.get("epochs")):
        parts.append(f"{metrics['epochs']} epochs")
    if is_number(metrics.get("train_seconds")):
        minutes, seconds = divmod(round(metrics["train_seconds"]), 60)
        parts.append(f"{minutes} min {seconds} s" if minutes else f"{seconds} s")
    if metrics.get("device"):
        parts.append(f"on {metrics['device']}")
    return " ".join(parts)


def sensitivity_facts(sensitivity: dict) -> list[tuple[str, str]]:
    """Clean against robust accuracy for each attack of a ``sensitivity.json``, and the other analyses' one-number
    summaries (band-ablation clean accuracy when no attack gives it, heat-map error, shift consistency)."""
    facts = []
    images = sensitivity.get("test_images")
    on = f" on {images} test images" if is_number(images) else ""
    attacks = sensitivity.get("attacks") if isinstance(sensitivity.get("attacks"), dict) else {}
    for key, attack in attacks.items():
        if not isinstance(attack, dict) or not is_number(attack.get("robust_accuracy")):
            continue
        described = describe_attack(attack) if "method" in attack else describe_attack_key(str(key))
        facts.append((
            f"clean vs robust ({described})",
            f"{format_accuracy(attack.get('clean_accuracy'))} clean, {format_accuracy(attack['robust_accuracy'])} "
            f"under attack{on}",
        ))
    bands = sensitivity.get("bands")
    if not attacks and isinstance(bands, dict) and is_number(bands.get("clean_accuracy")):
        facts.append(("clean accuracy (band ablation)", format_accuracy(bands["clean_accuracy"]) + on))
    heatmap = sensitivity.get("heatmap")
    if isinstance(heatmap, dict) and is_number(heatmap.get("mean_error")):
        norm = f" of L2 norm {heatmap['eps']:g}" if is_number(heatmap.get("eps")) else ""
        facts.append(("Fourier heat map", f"mean error {format_accuracy(heatmap['mean_error'])} with a Fourier basis "
                      f"image{norm} added"))
    shift = sensitivity.get("shift")
    if isinstance(shift, dict) and is_number(shift.get("consistency")):
        facts.append(("shift consistency", f"{format_accuracy(shift['consistency'])} of images keep their class "
                      "under two random circular shifts"))
    return facts


def describe_attack(attack: dict) -> str:
    """``PGD L-inf eps 8/255, 10 steps``: an attack as the user wrote its budget."""
    method = str(attack.get("method", "attack")).upper()
    norm = {"linf": "L-inf", "l2": "L2"}.get(str(attack.get("norm")), str(attack.get("norm", "")))
    text = f"{method} {norm}".strip()
    if is_number(attack.get("eps")):
        text += f" eps {budget_text(attack['eps'])}"
    if method == "PGD" and is_number(attack.get("steps")):
        text += f", {attack['steps']} steps"
    return text


def budget_text(eps: float) -> str:
    """An attack budget as a user writes it: a short decimal as such (``0.2``), else a whole number of 255ths as
    ``8/255`` (also from the 4 significant digits of an attack key, ``eps0.03137``), else the number.

    >>> budget_text(8 / 255), budget_text(0.03137), budget_text(0.2), budget_text(1.0), budget_text(0.0123456)
    ('8/255', '8/255', '0.2', '1', '0.0123456')
    """
    short = f"{eps:.3g}"
    if float(short) == eps:
        return short
    levels = round(eps * 255)
    if 1 <= levels < 255 and math.isclose(eps * 255, levels, rel_tol=1e-3):
        return f"{levels}/255"
    return f"{eps:g}"


def describe_attack_key(key: str) -> str:
    """An attack key of sensitivity.json / compare.json (``pgd-linf-eps8/255``, or ``pgd-linf-eps0.03137`` as older
    files wrote it) in words: ``PGD L-inf eps 8/255``.

    >>> describe_attack_key("pgd-linf-eps0.03137"), describe_attack_key("pgd-linf-eps8/255"), describe_attack_key("odd")
    ('PGD L-inf eps 8/255', 'PGD L-inf eps 8/255', 'odd')
    """
    match = re.fullmatch(r"(\w+)-(linf|l2)-eps([0-9.e+-]+)(?:/([0-9.e+-]+))?", key)
    if not match:
        return key
    eps = float(match[3]) / float(match[4]) if match[4] else float(match[3])
    return describe_attack({"method": match[1], "norm": match[2], "eps": eps})


# ----------------------------------------------------------------------------------------------------------------
# A comparison or a sweep
# ----------------------------------------------------------------------------------------------------------------


def compare_results_table(compare: Any, where: str = "") -> Table | None:
    """One row per variant of ``compare.json``: dataset, model, filter and swept options, runs, clean and robust
    accuracy (mean ± sample std over seeds when a variant has several)."""
    if not isinstance(compare, dict):
        return None
    variants = [variant for variant in compare.get("variants") or [] if isinstance(variant, dict)]
    attacks = sorted({describe_attack_key(str(row["robust_attack"])) for row in compare.get("rows") or []
                      if isinstance(row, dict) and row.get("robust_attack")})
    rows = []
    for variant in sorted(variants, key=_natural_order):
        stats = variant.get("stats") if isinstance(variant.get("stats"), dict) else {}
        rows.append([
            shown_dataset(variant.get("dataset")) or "-",
            str(variant.get("model", "-")),
            str(variant.get("label", variant.get("filter", "-"))),
            str(len(variant.get("runs") or [])),
            _mean_cell(stats.get("clean_accuracy")),
            _mean_cell(stats.get("robust_accuracy")),
        ])
    if not rows:
        return None
    note = "Test accuracy in percent, mean ± sample std over the runs of a variant (runs differing only in seed)"
    note += f"; robust: {', '.join(attacks)}" if attacks else ""
    header = ["data", "model", "variant", "runs", "clean accuracy (%)", "robust accuracy (%)"]
    return Table(f"Results ({where}compare.json)", header, rows, note + ".")


def _natural_order(variant: dict) -> tuple:
    """Dataset, model, then the variant label with its numbers compared as numbers (highpass:2 before highpass:12)."""
    label = str(variant.get("label", variant.get("filter", "")))
    return str(variant.get("dataset", "")), str(variant.get("model", "")), natural_key(label)


def _mean_cell(stat: Any) -> str:
    if not isinstance(stat, dict) or not is_number(stat.get("mean")):
        return "-"
    text = percent_number(stat["mean"])
    if is_number(stat.get("std")):
        text += f" ± {percent_number(stat['std'])}"
    return text


def sweep_results_table(root: Path, where: str = "") -> Table | None:
    """The first table of the sweep's ``results.md`` as the sweep wrote it, with the line above it as its note."""
    try:
        found = first_table((root / "results.md").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    if found is None:
        return None
    header, rows, above = found
    return Table(f"Results ({where}results.md)", header, rows, above)

"""Summaries of a run's ``sensitivity.json``: band-ablation areas and half-accuracy radii, heat-map error by
frequency band, shift consistency and the robust accuracy of one attack.

The sections are found by their keys, so the summaries do not depend on how the file nests them.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from freqprobe.run_columns import CORRUPTION_ACCURACY_PREFIX, CORRUPTION_GROUP_PREFIX
from freqprobe.tables import is_number, natural_sorted, number_or_none

# Heat-map frequency bands (cycles/pixel) of the heatmap_error_* columns: DC and the coarsest structure, the middle,
# and everything from half the Nyquist radius up.
HEATMAP_BANDS = {"heatmap_error_low": (0.0, 0.125), "heatmap_error_mid": (0.125, 0.25), "heatmap_error_high": (0.25, 1.0)}

BANDS_KEYS = ("radii", "low_pass_accuracy", "high_pass_accuracy")
HEATMAP_KEYS = ("error", "eps")
SHIFT_KEYS = ("consistency",)
ATTACK_KEYS = ("robust_accuracy",)


def find_section(data: Any, keys: Sequence[str], depth: int = 4) -> dict | None:
    """The first dict (breadth first, at most ``depth`` levels down) holding all ``keys``, or None."""
    level = [data]
    for _ in range(depth + 1):
        following = []
        for item in level:
            if isinstance(item, dict):
                if all(key in item for key in keys):
                    return item
                following.extend(item.values())
            elif isinstance(item, list):
                following.extend(entry for entry in item if isinstance(entry, dict))
        level = following
    return None


def sensitivity_columns(data: Any) -> dict[str, float | None]:
    """Band-ablation, heat-map, shift and attack summaries of a sensitivity.json (absent sections give None)."""
    columns: dict[str, float | None] = {}
    bands = find_section(data, BANDS_KEYS)
    if bands is not None:
        columns.update(band_ablation_summary(bands))
    heatmap = find_section(data, HEATMAP_KEYS)
    if heatmap is not None:
        columns.update(heatmap_summary(heatmap))
    shift = find_section(data, SHIFT_KEYS)
    if shift is not None:
        columns["shift_consistency"] = number_or_none(shift.get("consistency"))
    attack_key, attack = chosen_attack(data)
    if attack is not None:
        columns["robust_accuracy"] = number_or_none(attack.get("robust_accuracy"))
        columns["robust_attack"] = attack_key
    columns.update(corruption_columns(data))
    return columns


def corruption_columns(data: Any) -> dict[str, float | str | None]:
    """Mean corruption accuracy, the accuracy per perturbation-frequency group, and per corruption its accuracy
    over the five severities (``accuracy_under_<name>``) and frequency group (``frequency_group_of_<name>``: low,
    mid or high) of sensitivity.json's ``corruptions`` section (empty when the run has none)."""
    section = data.get("corruptions") if isinstance(data, dict) else None
    if not isinstance(section, dict):
        return {}
    groups = section.get("group_accuracy") if isinstance(section.get("group_accuracy"), dict) else {}
    columns = {"corruption_accuracy": number_or_none(section.get("mean_corruption_accuracy"))}
    columns.update({f"corruption_accuracy_{band}": number_or_none(groups.get(band)) for band in ("low", "mid", "high")})
    corruptions = section.get("per_corruption") if isinstance(section.get("per_corruption"), dict) else {}
    for name, entry in corruptions.items():
        error = number_or_none(entry.get("mean_error")) if isinstance(entry, dict) else None
        columns[f"{CORRUPTION_ACCURACY_PREFIX}{name}"] = None if error is None else 1.0 - error
        if isinstance(entry, dict) and entry.get("group") in ("low", "mid", "high"):
            columns[f"{CORRUPTION_GROUP_PREFIX}{name}"] = entry["group"]
    return columns


def chosen_attack(data: Any) -> tuple[str | None, dict | None]:
    """The attack whose robust accuracy goes into the table: of sensitivity.json's ``attacks`` ({key: result}) the
    first key in natural order (``fgsm-...`` before ``pgd-...``, ``pgd-linf-eps2/255`` before ``pgd-linf-eps16/255``),
    else any section with ``robust_accuracy``."""
    attacks = data.get("attacks") if isinstance(data, dict) else None
    if isinstance(attacks, dict):
        for key in natural_sorted(attacks):
            if isinstance(attacks[key], dict) and "robust_accuracy" in attacks[key]:
                return str(key), attacks[key]
    section = find_section(data, ATTACK_KEYS)
    if section is None:
        return None, None
    label = "-".join(str(section[name]) for name in ("method", "norm", "eps") if name in section) or None
    return label, section


def band_ablation_summary(bands: dict) -> dict[str, float | None]:
    """Areas under the low-/high-pass accuracy curves over 0..0.5 and the half-clean-accuracy radii."""
    radii = _numbers(bands.get("radii"))
    low = _numbers(bands.get("low_pass_accuracy"))
    high = _numbers(bands.get("high_pass_accuracy"))
    clean = number_or_none(bands.get("clean_accuracy"))
    if radii is None or low is None or high is None or not (len(radii) == len(low) == len(high) >= 2):
        return {}
    order = np.argsort(radii)
    radii, low, high = radii[order], low[order], high[order]
    summary = {"lowpass_auc": _mean_over(radii, low, 0.0, 0.5), "highpass_auc": _mean_over(radii, high, 0.0, 0.5)}
    if clean is not None and clean > 0:
        summary["lowpass_r50"] = _first_crossing(radii, low, 0.5 * clean, rising=True)
        summary["highpass_r50"] = _first_crossing(radii, high, 0.5 * clean, rising=False)
    return summary


def _numbers(values: Any) -> np.ndarray | None:
    if not isinstance(values, list) or not all(is_number(value) for value in values):
        return None
    return np.asarray(values, dtype=np.float64)


def _mean_over(radii: np.ndarray, values: np.ndarray, low: float, high: float) -> float | None:
    """Mean of the piecewise-linear curve over [low, high] ∩ [radii.min(), radii.max()] (trapezoid rule)."""
    start, stop = max(low, float(radii[0])), min(high, float(radii[-1]))
    if stop <= start:
        return None
    inside = (radii > start) & (radii < stop)
    xs = np.concatenate([[start], radii[inside], [stop]])
    ys = np.interp(xs, radii, values)
    return float(np.sum((ys[1:] + ys[:-1]) * np.diff(xs)) / 2.0 / (stop - start))


def _first_crossing(radii: np.ndarray, values: np.ndarray, level: float, rising: bool) -> float | None:
    """The smallest radius where the linear interpolation of the curve reaches ``level`` (rising) or falls below it."""
    reached = values >= level if rising else values < level
    if not reached.any():
        return None
    index = int(np.argmax(reached))
    if index == 0:
        return float(radii[0])
    r0, r1, v0, v1 = radii[index - 1], radii[index], values[index - 1], values[index]
    return float(r0 + (level - v0) * (r1 - r0) / (v1 - v0)) if v1 != v0 else float(r1)


def heatmap_summary(heatmap: dict) -> dict[str, float | None]:
    """Mean error and the excess-error-weighted mean |f| of a heat map grid in fftfreq order."""
    grid = heatmap.get("error")
    if not isinstance(grid, list) or not grid or not isinstance(grid[0], list):
        return {}
    error = np.array([[np.nan if value is None else float(value) for value in row] for row in grid])
    evaluated = np.isfinite(error)
    if not evaluated.any():
        return {}
    summary = {"heatmap_mean_error": float(error[evaluated].mean())}
    fy = _numbers(heatmap.get("frequencies_y"))
    fx = _numbers(heatmap.get("frequencies_x"))
    height, width = error.shape
    fy = fy if fy is not None and len(fy) == height else np.fft.fftfreq(height)
    fx = fx if fx is not None and len(fx) == width else np.fft.fftfreq(width)
    radius = np.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)
    for name, (low, high) in HEATMAP_BANDS.items():
        inside = evaluated & (radius >= low) & (radius < high)
        summary[name] = float(error[inside].mean()) if inside.any() else None
    clean = number_or_none(heatmap.get("clean_error")) or 0.0
    excess = np.where(evaluated, np.clip(np.nan_to_num(error) - clean, 0.0, None), 0.0)
    total = float(excess.sum())
    summary["heatmap_centroid"] = float((radius * excess).sum() / total) if total > 0 else None
    return summary

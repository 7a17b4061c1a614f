"""Paired differences against a baseline variant: for every variant, each numeric column minus the baseline's, seed
by seed (:func:`freqprobe.stats.paired_difference`, Student-t interval for few seeds).

``--baseline`` names the baseline by what sets it apart: a filter spec (``none``, ``blur:2``), or ``FIELD=VALUE``
pairs of the identity fields and swept options (``model=resnet20``; ``augment_noise=none,apr=none`` for plain
training in an augmentation sweep). The baseline of a variant is the variant with the same identity except for those
fields, which take the named values; ``none`` matches an option left unset.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from freqprobe.errors import ConfigError
from freqprobe.stats import paired_difference

DEFAULT_BASELINE = "none"


def parse_baseline(text: str) -> dict[str, str]:
    """``--baseline`` as ``{field: value}``: a bare filter spec is ``{"filter": spec}``.

    Raises:
        ConfigError: an empty field or value.

    Example:
        >>> parse_baseline("blur:2"), parse_baseline("augment_noise=none, apr=none")
        ({'filter': 'blur:2'}, {'augment_noise': 'none', 'apr': 'none'})
    """
    if "=" not in text:
        return {"filter": text.strip()}
    fields: dict[str, str] = {}
    for part in text.split(","):
        name, _, value = (piece.strip() for piece in part.partition("="))
        if not name or not value:
            raise ConfigError(f"--baseline {text!r}: {part.strip()!r} is not FIELD=VALUE; e.g. model=resnet20 or "
                              f"augment_noise=none,apr=none")
        if name in fields:
            raise ConfigError(f"--baseline {text!r} names {name} twice; give each field once")
        fields[name] = value
    return fields


def check_baseline(baseline: str | None, identities: Sequence[Mapping[str, Any]]) -> str | None:
    """The baseline to use, given each run's identity (``filter``, ``model``, ``dataset`` and the swept options):
    ``baseline`` when some run has it; None (no paired differences) when it was left at None and no run is
    unfiltered.

    Raises:
        ConfigError: a field no run varies or has, or an explicit ``baseline`` that no run was trained with.
    """
    if baseline is None:
        return DEFAULT_BASELINE if any(identity.get("filter") == DEFAULT_BASELINE for identity in identities) else None
    wanted = parse_baseline(baseline)
    known = sorted({name for identity in identities for name in identity})
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ConfigError(f"--baseline {baseline!r}: {', '.join(unknown)} is no field the compared runs are told "
                          f"apart by; use one of {', '.join(known)}")
    if not any(_matches(identity, wanted) for identity in identities):
        seen = {name: sorted({_text(identity.get(name)) for identity in identities}) for name in wanted}
        described = "; ".join(f"{name}: {', '.join(values)}" for name, values in seen.items())
        raise ConfigError(f"--baseline {baseline!r} matches no run; the compared runs have {described}")
    return baseline


def paired_differences(variants: Sequence[Any], baseline: str | None) -> list[dict]:
    """``{variant, baseline, dataset, column, mean, std, n, ci_low, ci_high, ci_method, seeds}`` for every variant
    other than its baseline and every column both have on a shared seed, in variant then column order."""
    if baseline is None:
        return []
    wanted = parse_baseline(baseline)
    by_identity = {
        _identity_key(variant.identity, wanted): variant
        for variant in variants if _matches(variant.identity, wanted)
    }
    entries = []
    for variant in variants:
        reference = by_identity.get(_identity_key(variant.identity, wanted))
        if reference is None or reference is variant:
            continue
        for column in variant.stats:
            if column not in reference.stats:
                continue
            difference = paired_difference(variant.values_by_seed(column), reference.values_by_seed(column))
            if difference is not None:
                entries.append({"variant": variant.label, "baseline": reference.label,
                                "dataset": variant.identity.get("dataset"), "column": column, **difference.to_dict()})
    return entries


def _matches(identity: Mapping[str, Any], wanted: Mapping[str, str]) -> bool:
    return all(_same(identity.get(name), value) for name, value in wanted.items())


def _same(value: Any, text: str) -> bool:
    """Whether a config value is what ``--baseline`` wrote: ``none`` for an unset option, numbers by value
    (``epochs=10`` matches 10 and 10.0), booleans without regard to case (``antialias=true``)."""
    if isinstance(value, bool):
        return text.lower() == str(value).lower()
    if isinstance(value, (int, float)):
        try:
            return float(text) == float(value)
        except ValueError:
            return False
    return _text(value) == text


def _text(value: Any) -> str:
    return "none" if value is None else str(value)


def _identity_key(identity: Mapping[str, Any], wanted: Mapping[str, str]) -> str:
    return repr(sorted((name, repr(value)) for name, value in identity.items() if name not in wanted))

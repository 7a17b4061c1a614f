"""The spec strings of the frequency augmentations (``--augment-noise``, ``--apr``), parsed without torch so that
the training config can validate them; :mod:`freqprobe.train.frequency_augment` applies them."""

from __future__ import annotations

from freqprobe.errors import ConfigError
from freqprobe.specs import Interval, format_number, parse_number

APR_MODES = ("none", "p", "s", "ps")  # off, APR-P, APR-S, both
NOISE_SIGMA = Interval(0, 1, low_open=True, unit="(pixel units, images in [0, 1])")
NOISE_USAGE = "gaussian:SIGMA (standard deviation in pixel units, 0 < SIGMA <= 1)"


def parse_noise_spec(spec: str | None) -> tuple[str, float] | None:
    """``"gaussian:0.1"`` -> ``("gaussian", 0.1)``; None, ``""`` and ``"none"`` -> None.

    Raises:
        ConfigError: another noise kind, a missing or out-of-range SIGMA (one line with the form to write).
    """
    if spec is None or not str(spec).strip() or str(spec).strip().lower() == "none":
        return None
    kind, _, sigma = str(spec).strip().partition(":")
    if kind.strip().lower() != "gaussian" or not sigma:
        raise ConfigError(f"--augment-noise {spec!r} is not a noise spec; write {NOISE_USAGE} or none")
    return "gaussian", parse_number(sigma, "--augment-noise SIGMA", NOISE_SIGMA)


def canonical_noise_spec(spec: str | None) -> str | None:
    """The canonical text of a noise spec (``"Gaussian: 0.10"`` -> ``"gaussian:0.1"``), None when off."""
    parsed = parse_noise_spec(spec)
    return None if parsed is None else f"{parsed[0]}:{format_number(parsed[1])}"


def check_apr(mode: str, probability: float) -> None:
    """Raise ConfigError (one line) unless ``mode`` is one of APR_MODES and ``probability`` is in [0, 1]."""
    if mode not in APR_MODES:
        raise ConfigError(f"--apr {mode!r} is not one of {', '.join(APR_MODES)}")
    if not 0.0 <= probability <= 1.0:
        raise ConfigError(f"--apr-probability {probability} must be in [0, 1]")

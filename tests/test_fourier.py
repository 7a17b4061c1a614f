"""Exact radial band masks: compared with an oracle in Fractions on grids whose rings hold ties and edge radii."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest
import torch

from freqprobe.errors import ConfigError
from freqprobe.fourier import exact_radius, frequency_axes, radial_band_mask, squared_radius_units


def fraction_oracle(height: int, width: int, low: Fraction, high: Fraction | None, onesided: bool) -> list[list[bool]]:
    """low <= |f| < high for every bin, with |f|^2 = (ky/H)^2 + (kx/W)^2 in Fractions (ky, kx from fftfreq)."""
    def index(k: int, n: int) -> int:
        return k if k <= (n - 1) // 2 else k - n  # fftfreq order; for even n the Nyquist bin n/2 is -n/2

    columns = range(width // 2 + 1) if onesided else range(width)
    rows = []
    for y in range(height):
        row = []
        for x in columns:
            squared = Fraction(index(y, height), height) ** 2 + Fraction(abs(index(x, width)), width) ** 2
            row.append(low * low <= squared and (high is None or squared < high * high))
        rows.append(row)
    return rows


EDGES_28 = [Fraction(k, 28) for k in range(21)] + [Fraction(1, 4), Fraction(1, 10), Fraction(1, 2)]


@pytest.mark.parametrize("onesided", [False, True])
def test_every_default_radius_of_a_28_grid_splits_its_ring_as_defined(onesided):
    # k/28 for k = 0..20 are the default band-ablation radii; 5/28 holds the tie (3, 4), 10/28 the tie (6, 8)
    for radius in EDGES_28:
        expected = fraction_oracle(28, 28, Fraction(0), radius, onesided)
        assert radial_band_mask(28, 28, 0, radius, onesided=onesided).tolist() == expected, radius
        # the float nearest to k/28 means k/28 (a float of it is what a JSON file or a Python caller passes)
        assert radial_band_mask(28, 28, 0, float(radius), onesided=onesided).tolist() == expected, radius


@pytest.mark.parametrize("height, width", [(28, 28), (27, 20), (5, 8), (32, 32)])
def test_bands_between_grid_radii_match_the_fraction_oracle(height, width):
    # edges on rings of this grid: k/H, k/W and the radii of a few off-axis bins, whose squares are rational
    edges = sorted({Fraction(0)} | {Fraction(k, height) for k in range(0, height // 2 + 1, 3)}
                   | {Fraction(k, width) for k in range(0, width // 2 + 1, 2)} | {Fraction(5, max(height, width))})
    for low, high in itertools.combinations(edges, 2):
        for onesided in (False, True):
            mask = radial_band_mask(height, width, low, high, onesided=onesided)
            assert mask.tolist() == fraction_oracle(height, width, low, high, onesided), (low, high, onesided)


def test_the_3_4_frequency_lies_on_5_28_and_goes_to_the_band_above():
    units = squared_radius_units(28, 28)
    assert int(units[3, 4]) == 25 * 28 * 28  # |f|^2 H^2 W^2 with |f| = 5/28
    below = radial_band_mask(28, 28, 0, Fraction(5, 28))
    above = radial_band_mask(28, 28, Fraction(5, 28), None)
    for ky, kx in [(3, 4), (4, 3), (-3, 4), (0, 5), (5, 0), (-5, 0)]:
        assert not bool(below[ky, kx]) and bool(above[ky, kx]), (ky, kx)
    assert bool(below[3, 3]) and bool(below[0, 4])  # |f| = sqrt(18)/28 and 4/28, both < 5/28


def test_squared_radius_units_are_the_squared_fftfreq_radius_in_integer_units():
    for height, width in [(28, 28), (7, 10), (1, 6)]:
        fy, fx = frequency_axes(height, width, dtype=torch.float64)
        expected = torch.round((fy * fy + fx * fx) * (height * width) ** 2).to(torch.int64)
        assert torch.equal(squared_radius_units(height, width), expected)
        assert torch.equal(squared_radius_units(height, width, onesided=True), expected[:, : width // 2 + 1].abs())


def test_exact_radius_reads_rationals_strings_and_the_simplest_rational_of_a_float():
    assert [exact_radius(k / 28) for k in range(21)] == [Fraction(k, 28) for k in range(21)]
    assert exact_radius(0.1) == Fraction(1, 10) and exact_radius(1 / 3) == Fraction(1, 3)
    assert exact_radius("5/28") == Fraction(5, 28) and exact_radius(" 0.25 ") == Fraction(1, 4)
    assert exact_radius("1e-1") == Fraction(1, 10) and exact_radius(3) == 3
    # a decimal string is taken as written: this one is just above 5/28, so the ring 5/28 is below it
    assert exact_radius("0.17857142857142858") > Fraction(5, 28)
    assert radial_band_mask(28, 28, 0, "0.17857142857142858")[3, 4]
    # the rounded radius the earlier default radii stored is not 5/28 either
    assert exact_radius(round(5 / 28, 10)) > Fraction(5, 28)
    for value in (0.0, 0.3, 1e-300, 5e-324, 1e308, math.sqrt(0.5)):
        assert float(exact_radius(value)) == value


@pytest.mark.parametrize("value", [-0.1, "-1/28", math.nan, math.inf, "abc", "1/0", True, [0.1]])
def test_impossible_radii_are_config_errors_naming_the_value(value):
    with pytest.raises(ConfigError, match="band high edge") as raised:
        radial_band_mask(8, 8, 0, value)
    assert repr(value) in str(raised.value)


def test_huge_and_empty_bands_give_whole_and_empty_masks():
    assert bool(radial_band_mask(28, 28, 0, 1e308).all())
    assert not bool(radial_band_mask(28, 28, Fraction(1, 2), Fraction(1, 4)).any())
    assert bool(radial_band_mask(28, 28, 0, None).all())

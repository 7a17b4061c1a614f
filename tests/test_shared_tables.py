"""freqprobe.tables: the one Markdown escaping rule, the one CSV spelling, and the number test."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest

from freqprobe.tables import (
    csv_cell,
    is_number,
    markdown_row,
    markdown_table,
    number_or_none,
    split_markdown_row,
    unique,
)


def test_markdown_row_escapes_a_bar_inside_a_cell():
    assert markdown_row(["a|b", 1, None]) == "| a\\|b | 1 | None |"


def test_markdown_table_has_header_separator_and_rows():
    assert markdown_table(["x", "y"], [["1", "2|3"]]) == ["| x | y |", "| --- | --- |", "| 1 | 2\\|3 |"]


@pytest.mark.parametrize("cells", [["a | b", "c"], ["x\\|y", "|", "plain"], ["train \\ test", "blur:2"]])
def test_split_markdown_row_reads_back_what_markdown_row_wrote(cells):
    assert split_markdown_row(markdown_row(cells)) == cells


def test_split_markdown_row_of_a_hand_written_row():
    assert split_markdown_row("| a \\| b | c |") == ["a | b", "c"]
    assert split_markdown_row("a | b") == ["a", "b"]


def _written(values) -> list[str]:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([csv_cell(value) for value in values])
    return next(csv.reader(io.StringIO(buffer.getvalue())))


def test_csv_cells_of_none_bool_and_float_round_trip():
    floats = [0.1 + 0.2, 1e-20, 0.9375, 123456789.125]
    cells = _written([None, True, False, 7, "text, with comma", *floats])
    assert cells[:5] == ["", "true", "false", "7", "text, with comma"]
    assert [float(cell) for cell in cells[5:]] == floats
    assert cells[5] == "0.30000000000000004"


def test_a_numpy_float_is_written_as_a_number_not_its_repr():
    # the comparison's old copy wrote repr(value): "np.float64(0.5)" under numpy 2
    assert csv_cell(np.float64(0.5)) == "0.5"
    assert float(_written([np.float64(1 / 3)])[0]) == 1 / 3


def test_csv_cell_of_nan_is_the_text_nan():
    assert csv_cell(math.nan) == "nan"


def test_is_number_takes_finite_ints_and_floats_only():
    assert [is_number(value) for value in (1, 0.5, np.float64(2.0))] == [True, True, True]
    assert [is_number(value) for value in (True, None, "1", math.nan, math.inf)] == [False] * 5
    assert number_or_none(3) == 3.0 and isinstance(number_or_none(3), float)
    assert number_or_none(False) is None and number_or_none(math.inf) is None


def test_unique_keeps_first_appearance_order():
    assert unique(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]
    assert unique(iter([])) == []


def test_natural_order_puts_highpass_2_before_highpass_12_in_specs_and_run_folder_names():
    from freqprobe.tables import natural_key, natural_sorted

    specs = ["highpass:20", "none", "highpass:2", "blur:4", "highpass:12", "blur:2", "whiten", "highpass:4"]
    assert natural_sorted(specs) == [
        "blur:2", "blur:4", "highpass:2", "highpass:4", "highpass:12", "highpass:20", "none", "whiten",
    ]
    folders = [f"fashion-mnist__resnet20__highpass-{sigma}__seed0" for sigma in (12, 2, 20, 4)]
    assert [name.split("__")[2] for name in natural_sorted(folders)] == [
        "highpass-2", "highpass-4", "highpass-12", "highpass-20",
    ]
    assert natural_sorted(["band:0.25:0.5", "band:0.0625:0.125", "band:0.125:0.25"]) == [
        "band:0.0625:0.125", "band:0.125:0.25", "band:0.25:0.5",
    ]
    assert natural_key("seed10") > natural_key("seed9")  # plain sorted() puts seed10 first
    assert sorted(["seed10", "seed9"]) == ["seed10", "seed9"]

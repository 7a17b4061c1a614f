"""Choosing preview examples: one per class in turn."""

from __future__ import annotations

import torch

from freqprobe.spectra.examples import one_per_class


def test_first_image_of_each_class_then_the_second():
    labels = torch.tensor([2, 0, 0, 1, 2, 1, 0])
    assert one_per_class(labels, 10).tolist() == [1, 3, 0, 2, 5, 4, 6]
    assert one_per_class(labels, 3).tolist() == [1, 3, 0]


def test_missing_classes_are_skipped():
    labels = torch.tensor([5, 5, 3])
    assert one_per_class(labels, 2).tolist() == [2, 0]

"""Batched augmentation equals per-image slicing/flipping/cutting; schedules give known values at known steps."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from freqprobe.train import config_from_dict
from freqprobe.train.augment import (
    augment_batch,
    crop_at,
    cutout,
    cutout_mask,
    flip_where,
    random_crop,
    sample_offsets,
)
from freqprobe.train.rng import derive_seed, generator
from freqprobe.train.schedule import learning_rate


def known_images(n=6, c=2, h=5, w=7) -> torch.Tensor:
    return torch.arange(n * c * h * w, dtype=torch.float32).reshape(n, c, h, w)


@pytest.mark.parametrize(("mode", "torch_mode"), [("reflect", "reflect"), ("zero", "constant")])
def test_crop_equals_the_slice_of_the_padded_image_at_each_offset(mode, torch_mode):
    images, padding = known_images(), 2
    offsets = torch.tensor([[0, 0], [4, 4], [1, 3], [2, 2], [4, 0], [0, 1]])
    crops = crop_at(images, offsets, padding, mode)
    padded = F.pad(images, (padding,) * 4, mode=torch_mode)
    for i, (top, left) in enumerate(offsets.tolist()):
        assert torch.equal(crops[i], padded[i, :, top : top + 5, left : left + 7])
    # the centre offset is the identity, a corner offset shifts content by `padding`
    assert torch.equal(crops[3], images[3])
    assert torch.equal(crops[1][:, :-2, :-2], images[1][:, 2:, 2:])


def test_zero_padding_fills_zeros():
    crops = crop_at(torch.ones(1, 1, 4, 4), torch.tensor([[0, 0]]), 2, "zero")
    assert crops[0, 0, :2].sum() == 0 and crops[0, 0, :, :2].sum() == 0 and crops[0, 0, 2:, 2:].sum() == 4


def test_random_crop_offsets_come_from_the_generator():
    images = known_images(n=64)
    crops = random_crop(images, 3, generator(7, "augment", 1))
    offsets = sample_offsets(64, 3, generator(7, "augment", 1))
    assert torch.equal(crops, crop_at(images, offsets, 3))
    assert offsets.min() == 0 and offsets.max() == 6  # the whole range [0, 2p] is drawn
    assert not torch.equal(crops, images)


def test_flip_mirrors_exactly_the_masked_images():
    images = known_images()
    mask = torch.tensor([True, False, True, True, False, False])
    flipped = flip_where(images, mask)
    for i in range(len(images)):
        expected = torch.flip(images[i], dims=[-1]) if mask[i] else images[i]
        assert torch.equal(flipped[i], expected)


def test_augment_batch_flips_about_half_and_is_reproducible():
    images = known_images(n=400, c=1, h=4, w=4)
    once = augment_batch(images, generator(0, "augment", 3), crop_padding=0, flip=True)
    again = augment_batch(images, generator(0, "augment", 3), crop_padding=0, flip=True)
    assert torch.equal(once, again)
    flipped = (once != images).flatten(1).any(dim=1)
    assert torch.equal(once[flipped], images[flipped].flip(-1))
    assert 150 < int(flipped.sum()) < 250
    assert torch.equal(augment_batch(images, generator(0, "augment", 3), 0, flip=False), images)


def reference_cutout_mask(height, width, size, centre):
    """The square by a per-pixel loop: pixel (r, c) is cut when it lies in [cy - size//2, cy - size//2 + size)."""
    cy, cx = centre
    top, left = cy - size // 2, cx - size // 2
    mask = torch.zeros(height, width, dtype=torch.bool)
    for r in range(height):
        for c in range(width):
            mask[r, c] = top <= r < top + size and left <= c < left + size
    return mask


@pytest.mark.parametrize("size", [1, 4, 5, 12])
def test_cutout_mask_is_the_square_around_the_drawn_centre_clipped_at_the_borders(size):
    height, width, count = 9, 11, 200
    mask = cutout_mask(count, height, width, size, generator(3, "augment", 0))
    # the same generator state draws the same centres: rows first, then columns
    replay = generator(3, "augment", 0)
    rows = torch.randint(0, height, (count,), generator=replay)
    cols = torch.randint(0, width, (count,), generator=replay)
    assert mask.shape == (count, 1, height, width)
    for i in range(count):
        assert torch.equal(mask[i, 0], reference_cutout_mask(height, width, size, (int(rows[i]), int(cols[i]))))
    areas = mask.flatten(1).sum(1)
    assert int(areas.max()) == min(size, height) * min(size, width)  # some squares lie wholly inside
    if size > 1:  # a 1x1 square always lies inside
        assert int(areas.min()) < size * size  # and some are clipped by an edge


def test_cutout_fills_the_square_with_the_channel_values_and_keeps_the_rest():
    images = torch.rand(50, 3, 8, 8)
    fill = torch.tensor([0.1, 0.2, 0.3])
    cut = cutout(images, 4, generator(1, "augment", 2), fill)
    mask = cutout_mask(50, 8, 8, 4, generator(1, "augment", 2)).expand_as(images)
    assert torch.equal(cut[~mask], images[~mask])
    expected = fill.reshape(1, 3, 1, 1).expand_as(images)[mask]
    assert torch.equal(cut[mask], expected)
    assert torch.equal(cutout(images, 0, generator(1, "augment", 2), fill), images)
    zero_filled = cutout(images, 4, generator(1, "augment", 2))
    assert torch.equal(zero_filled[mask], torch.zeros(int(mask.sum())))
    assert cut.dtype == images.dtype and zero_filled.shape == images.shape


def test_augment_batch_cuts_out_after_crop_and_flip():
    images = known_images(n=40, c=2, h=8, w=8) + 1.0  # no zero pixel before the cut
    fill = torch.tensor([0.0, 0.0])
    out = augment_batch(images, generator(0, "augment", 1), 2, True, "reflect", cutout_size=3, cutout_fill=fill)
    replay = generator(0, "augment", 1)
    expected = augment_batch(images, replay, 2, True, "reflect")
    expected = cutout(expected, 3, replay, fill)
    assert torch.equal(out, expected)
    zeros = (out == 0).all(dim=1).flatten(1).sum(1)
    assert int(zeros.min()) >= 1 and int(zeros.max()) == 9


def test_derived_seeds_differ_per_stream_epoch_and_rank():
    seeds = {derive_seed(0, s, e, r) for s in ("permutation", "augment") for e in range(3) for r in range(2)}
    assert len(seeds) == 12
    assert derive_seed(5, "augment", 2, 0) == derive_seed(5, "augment", 2, 0)


def test_step_schedule_decays_tenfold_at_epoch_50():
    config = config_from_dict({"dataset": "cifar10", "preset": "original", "epochs": 150, "schedule": "step"})
    steps_per_epoch = 391
    lr = lambda epoch, offset=0: learning_rate(config, epoch * steps_per_epoch + offset, steps_per_epoch)  # noqa: E731
    assert lr(0) == pytest.approx(0.1)
    assert lr(49, steps_per_epoch - 1) == pytest.approx(0.1)
    assert lr(50) == pytest.approx(0.01)
    assert lr(99) == pytest.approx(0.01)
    assert lr(100) == pytest.approx(0.001)


def test_onecycle_rises_to_the_peak_then_falls_to_zero():
    config = config_from_dict({"dataset": "cifar10", "epochs": 10, "lr": 0.4, "warmup_fraction": 0.2})
    total = 10 * 100
    values = [learning_rate(config, step, 100) for step in range(total)]
    assert values[0] == pytest.approx(0.4 / 25)
    assert values[200] == pytest.approx(0.4) and max(values) == pytest.approx(0.4)
    assert values[100] == pytest.approx(0.4 / 25 + (0.4 - 0.4 / 25) / 2)
    assert values[600] == pytest.approx(0.4 * 0.5)
    assert values[-1] == pytest.approx(0.4 / 800)
    assert all(a <= b for a, b in zip(values[:200], values[1:201]))
    assert all(a >= b for a, b in zip(values[200:], values[201:]))


def test_cosine_is_half_way_at_half_time():
    config = config_from_dict({"dataset": "cifar10", "epochs": 4, "lr": 0.2, "schedule": "cosine"})
    assert learning_rate(config, 0, 10) == pytest.approx(0.2)
    assert learning_rate(config, 20, 10) == pytest.approx(0.1)
    assert learning_rate(config, 30, 10) == pytest.approx(0.1 * (1 + math.cos(math.pi * 0.75)))

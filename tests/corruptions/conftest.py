"""Real test images for the corruption tests: Fashion-MNIST (28x28 grey) and the CIFAR-10 JPEG q75 copy (32x32 RGB)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", params=["fashion-mnist", "cifar10-jpeg"])
def real_images(request, shared_data):
    """(name, float images (24, C, H, W) in [0, 1]) of the test split, first 24 images."""
    from freqprobe.data import load_dataset, to_float

    name = "fashion-mnist" if request.param == "fashion-mnist" else f"folder:{shared_data / 'cifar10-jpeg.tar.gz'}"
    test = load_dataset(name, train=False, root=shared_data)
    return request.param, to_float(test.images[:24])

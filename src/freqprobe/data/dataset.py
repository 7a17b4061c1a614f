"""The in-memory dataset: one uint8 image tensor, labels and class names."""

from __future__ import annotations

from dataclasses import dataclass

import torch

SPLITS = ("train", "val", "test")


@dataclass
class ImageDataset:
    """A whole split in memory.

    images: uint8 (N, C, H, W), contiguous. labels: int64 (N,), values in [0, len(classes)).
    classes: index -> class name. name: the dataset name as the user gave it (``fashion-mnist``,
    ``folder:../shared/data/cifar10-jpeg.tar.gz``). source: where the files were found.
    split: ``train``, ``val`` or ``test``. resize: how the images were brought to one size (``--image-size``;
    :func:`freqprobe.data.resize.describe_resize`), None when they are as stored.

    Raises ValueError when the tensors break these rules (a programming error, not a user error).
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]
    name: str
    source: str
    split: str
    resize: str | None = None

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(f"images must be uint8 (N, C, H, W), got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels.dtype != torch.int64 or self.labels.dim() != 1:
            raise ValueError(f"labels must be int64 (N,), got {self.labels.dtype} {tuple(self.labels.shape)}")
        if len(self.images) != len(self.labels):
            raise ValueError(f"{len(self.images)} images but {len(self.labels)} labels")
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        if len(self.labels) and (int(self.labels.min()) < 0 or int(self.labels.max()) >= len(self.classes)):
            raise ValueError(f"labels must lie in [0, {len(self.classes)})")
        self.images = self.images.contiguous()

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W)."""
        _, channels, height, width = self.images.shape
        return channels, height, width

    def class_counts(self) -> list[int]:
        """Number of images per class index."""
        return torch.bincount(self.labels, minlength=self.num_classes).tolist()

    def select(self, indices: torch.Tensor, split: str | None = None) -> "ImageDataset":
        """A new dataset holding ``images[indices]`` (a copy), optionally relabelled as another split."""
        indices = torch.as_tensor(indices, dtype=torch.int64)
        return ImageDataset(
            images=self.images.index_select(0, indices),
            labels=self.labels.index_select(0, indices),
            classes=list(self.classes),
            name=self.name,
            source=self.source,
            split=split or self.split,
            resize=self.resize,
        )


@dataclass
class Splits:
    """The three splits of one dataset: ``val`` is carved from the training files, ``test`` is untouched."""

    train: ImageDataset
    val: ImageDataset
    test: ImageDataset

    def __iter__(self):
        return iter((self.train, self.val, self.test))


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 (..., H, W) in [0, 255] -> float32 in [0, 1] on the same device.

    Raises TypeError for any other dtype, so that a float tensor is never divided by 255 twice.
    """
    if images.dtype != torch.uint8:
        raise TypeError(f"to_float expects uint8 images, got {images.dtype}")
    return images.to(torch.float32).div_(255.0)

"""The baseline a user would write by hand: fp32, a per-sample Dataset/DataLoader, per-sample augmentation.

Used by ``benchmarks/train_throughput.py``; kept separate so the baseline is easy to read and audit.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class PerSampleAugmentedDataset(Dataset):
    """uint8 (N, C, H, W) images; each item is converted, padded, randomly cropped and flipped on its own."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, augment: bool, padding: int = 4):
        self.images, self.labels, self.augment, self.padding = images, labels, augment, padding

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        image = self.images[index].float().div_(255)
        if self.augment:
            height, width = image.shape[-2:]
            padded = F.pad(image, (self.padding,) * 4)
            top = int(torch.randint(0, 2 * self.padding + 1, ()))
            left = int(torch.randint(0, 2 * self.padding + 1, ()))
            image = padded[:, top : top + height, left : left + width]
            if torch.rand(()) < 0.5:
                image = image.flip(-1)
        return image, self.labels[index]


def evaluate(model, loader) -> float:
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += int((model(images).argmax(1) == labels).sum())
            total += len(labels)
    return correct / total


def train_plain(model, train_images, train_labels, val_images, val_labels, test_images, test_labels, epochs: int,
                batch_size: int = 128, lr: float = 0.05) -> dict:
    """Train in fp32 with a DataLoader, validate every epoch, test at the end (the same evaluation work as
    freqprobe's engine); returns images/s over the whole thing."""
    train_loader = DataLoader(PerSampleAugmentedDataset(train_images, train_labels, augment=True),
                              batch_size=batch_size, shuffle=True, drop_last=True)
    val_loader = DataLoader(PerSampleAugmentedDataset(val_images, val_labels, augment=False), batch_size=512)
    test_loader = DataLoader(PerSampleAugmentedDataset(test_images, test_labels, augment=False), batch_size=512)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    start = time.perf_counter()
    seen = 0
    for _ in range(epochs):
        model.train()
        for images, labels in train_loader:
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            seen += len(labels)
        val_accuracy = evaluate(model, val_loader)
    test_accuracy = evaluate(model, test_loader)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "train_images": seen, "images_per_second": seen / seconds,
            "val_accuracy": val_accuracy, "test_accuracy": test_accuracy}

"""Progress on stderr: one tqdm bar over the whole run (loss, accuracy, images/s, ETA) and a line per epoch.

Only rank 0 reports; other ranks get a silent reporter.
"""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

from freqprobe.tables import format_accuracy


class Progress:
    """A run-long progress bar; ``enabled=False`` keeps the per-epoch lines but hides the bar."""

    def __init__(self, total_steps: int, done_steps: int, epochs: int, enabled: bool = True, silent: bool = False):
        self.epochs = epochs
        self.silent = silent
        self._bar = None
        if enabled and not silent:
            self._bar = tqdm(
                total=total_steps,
                initial=done_steps,
                unit="step",
                file=sys.stderr,
                dynamic_ncols=True,
                leave=False,
            )
        self._images = 0
        self._started = time.perf_counter()

    def message(self, text: str) -> None:
        """A line that does not break the bar."""
        if self.silent:
            return
        if self._bar is not None:
            self._bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def start_epoch(self, epoch: int) -> None:
        if self._bar is not None:
            self._bar.set_description(f"epoch {epoch}/{self.epochs}")
        self._images = 0
        self._started = time.perf_counter()

    def update(self, steps: int, images: int, loss: float, accuracy: float) -> None:
        """Advance by ``steps`` that processed ``images`` (this epoch's running loss and accuracy so far)."""
        self._images += images
        if self._bar is None:
            return
        rate = self._images / max(time.perf_counter() - self._started, 1e-9)
        postfix = {"loss": f"{loss:.3f}", "acc": format_accuracy(accuracy), "img/s": f"{rate:.0f}"}
        self._bar.set_postfix(ordered_dict=postfix, refresh=False)
        self._bar.update(steps)

    def end_epoch(self, record: dict) -> None:
        self.message(
            f"epoch {record['epoch']}/{self.epochs}: loss {record['train_loss']:.4f}, "
            f"train {format_accuracy(record['train_accuracy'])}, val {format_accuracy(record['val_accuracy'])}, "
            f"{record['images_per_second']:.0f} images/s, {record['seconds']:.1f} s"
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

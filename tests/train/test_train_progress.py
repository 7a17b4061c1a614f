"""The progress bar shows loss, accuracy and images/s on stderr; per-epoch lines survive without the bar."""

from __future__ import annotations

from freqprobe.train.progress import Progress

RECORD = {"epoch": 1, "train_loss": 0.5, "train_accuracy": 0.8, "val_accuracy": 0.75, "images_per_second": 900.0,
          "seconds": 12.0}  # fmt: skip


def test_bar_shows_loss_accuracy_and_rate(capsys):
    progress = Progress(total_steps=4, done_steps=0, epochs=2)
    progress.start_epoch(1)
    progress.update(steps=2, images=128, loss=1.25, accuracy=0.5)
    progress.end_epoch(RECORD)
    progress.close()
    err = capsys.readouterr().err
    assert "epoch 1/2" in err and "loss=1.250" in err and "acc=50.00%" in err and "img/s=" in err
    assert "epoch 1/2: loss 0.5000, train 80.00%, val 75.00%, 900 images/s, 12.0 s" in err


def test_without_bar_only_epoch_lines_and_silent_ranks_print_nothing(capsys):
    quiet = Progress(total_steps=4, done_steps=2, epochs=2, enabled=False)
    quiet.update(steps=2, images=128, loss=1.0, accuracy=0.5)
    quiet.end_epoch(RECORD)
    assert capsys.readouterr().err.strip() == "epoch 1/2: loss 0.5000, train 80.00%, val 75.00%, 900 images/s, 12.0 s"
    silent = Progress(total_steps=4, done_steps=0, epochs=2, silent=True)
    silent.end_epoch(RECORD)
    silent.message("hello")
    assert capsys.readouterr().err == ""

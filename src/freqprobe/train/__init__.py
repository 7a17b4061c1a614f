"""freqprobe.train: train a model on filtered images and write a run folder.

    from freqprobe.train import config_from_dict, run_training
    config = config_from_dict({"dataset": "fashion-mnist", "filter": "blur:2", "epochs": 5})
    metrics = run_training(config, "runs/blur2")      # config.json, metrics.jsonl, metrics.json,
                                                       # model.safetensors, checkpoint.pt, env.json

The public names load lazily (PEP 562): the CLI imports ``freqprobe.train.commands`` to build its parser, and that
must not import torch, so ``freqprobe --help`` stays quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from freqprobe.lazy import lazy_exports

_EXPORTS = {
    "TrainConfig": "freqprobe.train.config",
    "config_from_dict": "freqprobe.train.config",
    "config_from_toml": "freqprobe.train.config",
    "resolve_config": "freqprobe.train.config",
    "PRESETS": "freqprobe.train.presets",
    "preset_values": "freqprobe.train.presets",
    "run_training": "freqprobe.train.engine",
    "is_run_complete": "freqprobe.train.run_folder",
    "read_final_metrics": "freqprobe.train.run_folder",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from freqprobe.train.config import TrainConfig, config_from_dict, config_from_toml, resolve_config
    from freqprobe.train.engine import run_training
    from freqprobe.train.presets import PRESETS, preset_values
    from freqprobe.train.run_folder import is_run_complete, read_final_metrics

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

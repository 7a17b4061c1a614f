"""What a training run is built from, checked and made before the first epoch: the names and sizes of the config,
the model (initialized from the seed or restored from a checkpoint), its regularizer, optimizer and gradient scaler,
the training wrappers (DDP, ``torch.compile``) and the batch sizes."""

from __future__ import annotations

import torch
from torch import nn

from freqprobe.errors import ConfigError
from freqprobe.train.checkpoint import TrainingState
from freqprobe.train.config import TrainConfig
from freqprobe.train.distributed import DistributedContext
from freqprobe.train.fastpaths import FastPaths, keep_depthwise_in_fp32
from freqprobe.train.optimizer import build_optimizer
from freqprobe.train.prepare import PreparedData
from freqprobe.train.rng import derive_seed


def check_names(config: TrainConfig) -> None:
    """Fail on an unknown dataset, model or filter before any data is loaded or any file written.

    Raises:
        ConfigError: the name and the valid ones.
    """
    from freqprobe.data import dataset_names
    from freqprobe.filters import build_filter
    from freqprobe.models.build import check_model_name

    names = dataset_names()
    if not config.dataset.startswith(("folder:", "imagefolder:")) and config.dataset not in names:
        raise ConfigError(f"unknown dataset {config.dataset!r}; valid: {', '.join(names)}")
    check_model_name(config.model)
    build_filter(config.filter, boundary=config.boundary)


def check_fits_images(config: TrainConfig, size: tuple[int, int]) -> None:
    """Augmentation sizes that cannot work on images of ``size`` (H, W) fail before any training.

    Raises:
        ConfigError: the size too large and the largest that fits.
    """
    height, width = size
    if config.cutout > min(height, width):
        raise ConfigError(
            f"cutout={config.cutout} is larger than the {height}x{width} images; use at most {min(height, width)} "
            "(about half the side is usual, e.g. --cutout 12 for 32x32)"
        )
    if config.tta_translate >= min(height, width):
        raise ConfigError(
            f"tta_translate={config.tta_translate} shifts the {height}x{width} images out of view; use at most "
            f"{min(height, width) - 1} (1 or 2 pixels is usual)"
        )


def build_model(
    config: TrainConfig, fast: FastPaths, data: PreparedData, saved: TrainingState | None
) -> tuple[nn.Module, dict]:
    """The plain model on its device (initialized from the seed and ``config.weights``, or with the weights of
    ``saved``) and the record of its source for config.json (:func:`freqprobe.models.build.build_model`)."""
    from freqprobe.models import conv_model_kwargs
    from freqprobe.models.build import build_model as build_from_source
    from freqprobe.models.build import check_output_shape

    # the initial weights depend only on the seed, whatever ran before in this process
    torch.manual_seed(derive_seed(config.seed, "init"))
    built = build_from_source(
        config.model,
        in_channels=data.in_channels,
        num_classes=len(data.classes),
        model_args=config.model_args,
        # a resumed run's weights come from its checkpoint, so the original file (or cache) is not needed again
        weights=config.weights if saved is None else None,
        channel_adapter=config.channel_adapter,
        small_input=config.small_input,
        antialias=config.antialias,
        mean=data.mean.tolist(),
        std=data.std.tolist(),
        width_multiplier=config.width_multiplier,
        **conv_model_kwargs(config.conv),
    )
    model = built.model
    if built.record.get("normalization", {}).get("source") in ("caller", "none (mean 0, std 1)"):
        built.record["normalization"]["source"] = "the filtered training split's per-channel mean/std"
    check_output_shape(model, (data.in_channels, *data.image_size), len(data.classes), f"model {config.model!r}")
    model = model.to(fast.torch_device)
    if fast.channels_last:
        model = model.to(memory_format=torch.channels_last)
    if fast.depthwise_fp32:
        keep_depthwise_in_fp32(model)
    if saved is not None:
        model.load_state_dict(saved.model)
    return model, built.record


def build_regularizer(config: TrainConfig, model: nn.Module):
    """The ``spectral_reg`` loss term, built on the plain model: its layers are looked up by name, which DDP and
    ``torch.compile`` wrappers would prefix."""
    from freqprobe.train.regularizers import build_regularizer as build_spectral_regularizer

    return build_spectral_regularizer(config.spectral_reg, model)


def restore_optimizer(model: nn.Module, config: TrainConfig, saved: TrainingState | None) -> torch.optim.Optimizer:
    """The optimizer of ``config`` on ``model``, with the state of ``saved``."""
    optimizer = build_optimizer(model, config)
    if saved is not None:
        optimizer.load_state_dict(saved.optimizer)
    return optimizer


def build_scaler(fast: FastPaths, saved: TrainingState | None) -> torch.amp.GradScaler | None:
    """The fp16 gradient scaler (with the state of ``saved``), or None when the precision needs none."""
    if not fast.grad_scaler:
        return None
    scaler = torch.amp.GradScaler("cuda")
    if saved is not None and saved.scaler:
        scaler.load_state_dict(saved.scaler)
    return scaler


def wrap_for_training(model: nn.Module, context: DistributedContext, fast: FastPaths) -> nn.Module:
    """``model`` as the training steps call it: DDP-wrapped across ranks and/or compiled."""
    module = model
    if context.enabled:
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [fast.torch_device.index] if fast.device_type == "cuda" else None
        module = DistributedDataParallel(model, device_ids=device_ids)
    if fast.compile:
        module = torch.compile(module)
    return module


def batching(config: TrainConfig, world: int, train_count: int) -> tuple[int, int]:
    """(batch size per rank, steps per epoch). Incomplete last batches are dropped (fresh each epoch).

    Raises:
        ConfigError: the batch or the training images cannot be shared by the ``world`` processes.
    """
    if config.batch_size % world:
        raise ConfigError(
            f"batch_size {config.batch_size} is not divisible by the {world} processes; "
            f"choose a multiple of {world}"
        )
    per_rank = config.batch_size // world
    shard = train_count // world
    if shard < 2:
        raise ConfigError(f"{train_count} training images cannot be shared by {world} processes; use more data")
    return min(per_rank, shard), max(1, shard // per_rank)


def to_device(data: PreparedData, fast: FastPaths) -> PreparedData:
    """``data`` with its splits moved to the training device when they live there (changed in place)."""
    if not fast.data_on_device:
        return data
    device = fast.torch_device
    for name in ("train_images", "train_labels", "val_images", "val_labels", "test_images", "test_labels"):
        setattr(data, name, getattr(data, name).to(device))
    return data

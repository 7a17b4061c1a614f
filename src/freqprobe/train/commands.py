"""``freqprobe train`` (``sweep`` and ``reproduce`` are in :mod:`freqprobe.sweeps.commands`).

Option precedence, lowest first: defaults < ``--preset`` < ``--config`` file < explicit flags. Every training
flag defaults to None so that only flags the user typed override the file. Only argparse is imported at module
level: the CLI builds its parser on every call.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from freqprobe.plots.formats import add_format_argument


def add_commands(subparsers) -> None:
    """Register ``train``."""
    add_train_command(subparsers)


def add_train_command(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "train",
        help="train a model on (filtered) images and write a run folder",
        description=(
            "Train a model on a dataset seen through an input filter. The filter is fitted on the training split "
            "and applied once to every split before augmentation. Writes RUN/config.json, metrics.jsonl, "
            "metrics.json, model.safetensors, checkpoint.pt and env.json. Precedence: defaults < --preset < "
            "--config file < flags. Runs under torchrun for data-parallel training."
        ),
    )
    add_training_arguments(parser)
    parser.set_defaults(handler=run_train)
    return parser


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """Every :class:`~freqprobe.train.TrainConfig` field as a flag (default None = not given), plus run control."""
    run = parser.add_argument_group("run")
    run.add_argument("--out", metavar="RUN", help="run folder to write")
    run.add_argument("--config", metavar="FILE", help="TOML file of training options (keys as the flags, with _)")
    run.add_argument("--preset", metavar="NAME", help="named recipe: fast (per dataset) or original (the notebooks)")
    run.add_argument("--resume", metavar="RUN", help="continue the unfinished run in RUN with its saved options")
    run.add_argument("--force", action="store_true", help="overwrite an existing run in --out")
    run.add_argument("--stop-after", type=int, metavar="N", help="stop cleanly after N epochs (resume later)")
    run.add_argument(
        "--processes",
        metavar="N",
        help="data-parallel ranks on this machine, as torchrun --nproc_per_node=N would start them; 'auto' = one "
        "per core; default 1",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar (per-epoch lines stay)")
    add_format_argument(run)  # of RUN/learning_curve.<format>, drawn at the end
    run.add_argument(
        "--list-models",
        action="store_true",
        help="print every --model name with its parameters and forward FLOPs per image at 3x32x32 and 1x28x28 "
        "(for --width-multiplier, 10 classes) and exit",
    )
    run.add_argument("--seed", type=int, metavar="S", help="seed of initialization, order and augmentation (0)")
    run.add_argument("--subset", type=int, metavar="N", help="train on the first N (stratified) training images")
    run.add_argument("--limit-eval", type=int, metavar="N", help="evaluate on the first N val and test images")
    run.add_argument(
        "--track-kernels",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="after every epoch, per-layer kernel statistics (spectral centroid, high-frequency ratio, filter "
        "quality, aliasing) into RUN/kernel_stats.jsonl; freqprobe filters RUN plots them over the epochs",
    )
    run.add_argument(
        "--track-features",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="after every epoch, per-layer feature-map spectra (ΔLog-amplitude, spectral centroid, aliasing before "
        "subsampling) of the first 64 validation images into RUN/feature_stats.jsonl (as freqprobe features)",
    )

    _add_data_arguments(parser)

    model = parser.add_argument_group("model and filter")
    model.add_argument(
        "--model",
        metavar="M",
        help="resnet20 (default), resnet32, resnet56, resnet18, wrn16_4, vgg11_bn, allcnn_c, mobilenet_v2, "
        "shufflenet_v2, densenet_bc_100, convnext_atto (`--list-models` lists them with parameters and FLOPs) | "
        "tv:NAME (torchvision) | timm:NAME | py:package.module:callable | py:path/to/file.py:callable (your factory)",
    )
    add_model_source_arguments(model)
    model.add_argument(
        "--width-multiplier",
        type=float,
        metavar="W",
        help="scale every layer's channels by W, in (0, 16] (1): compare families at matched compute",
    )
    model.add_argument(
        "--filter", metavar="F",
        help="none, blur:S, highpass:S, whiten, band:LO:HI, logmag, powerlaw:ALPHA, phase, amplitude-swap",
    )
    model.add_argument("--boundary", choices=("circular", "reflect"), help="boundary of blur/highpass (circular)")
    model.add_argument("--antialias", action=argparse.BooleanOptionalAction, default=None, help="BlurPool before subsampling")
    # literal grammars (freqprobe.models.conv_spec.GRAMMAR, freqprobe.train.regularizers.GRAMMAR): importing those
    # modules would import torch, and building the parser must not
    model.add_argument(
        "--conv",
        metavar="SPEC",
        help=(
            "3x3 convolutions: standard (default) | bandpass[:FAMILY][:lo=F][:hi=F][:per=pair|output][:k=K]"
            "[@all|@stem]; FAMILY gabor (default) or dog, band lo..hi in cycles/pixel (0.05..0.5), @all (default) "
            "every 3x3 conv or @stem the first only; e.g. bandpass:gabor@stem"
        ),
    )
    model.add_argument(
        "--spectral-reg",
        metavar="SPEC",
        help=(
            "loss on the kernels' frequency responses: none (default) | highfreq:WEIGHT[:CUTOFF][@all|@stem] "
            "(share of power above CUTOFF, default 0.25 cycles/pixel) | centroid:WEIGHT:TARGET[@all|@stem] "
            "(squared distance of the spectral centroid to TARGET); e.g. highfreq:0.1"
        ),
    )

    optim = parser.add_argument_group("optimization")
    optim.add_argument("--epochs", type=int, metavar="N", help="epochs (10)")
    optim.add_argument("--batch-size", type=int, metavar="B", help="global batch size (256)")
    optim.add_argument("--lr", type=float, metavar="LR", help="peak learning rate (0.1)")
    optim.add_argument("--momentum", type=float, metavar="M", help="SGD momentum (0.9)")
    optim.add_argument("--nesterov", action=argparse.BooleanOptionalAction, default=None, help="Nesterov momentum (on)")
    optim.add_argument("--weight-decay", type=float, metavar="WD", help="weight decay, not on BN/bias (5e-4)")
    optim.add_argument("--label-smoothing", type=float, metavar="E", help="label smoothing (0)")
    optim.add_argument("--schedule", choices=("onecycle", "cosine", "step"), help="lr schedule (onecycle)")
    optim.add_argument("--warmup-fraction", type=float, metavar="F", help="onecycle warm-up share (0.25)")
    optim.add_argument("--step-size", type=int, metavar="N", help="step schedule: epochs per decay (50)")
    optim.add_argument("--step-gamma", type=float, metavar="G", help="step schedule: factor per decay (0.1)")

    augment = parser.add_argument_group("augmentation and evaluation")
    augment.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None, help="crop and flip (on)")
    augment.add_argument("--crop-padding", type=int, metavar="P", help="random-crop padding in pixels (4)")
    augment.add_argument("--padding-mode", choices=("reflect", "zero"), help="random-crop padding fill (reflect)")
    augment.add_argument("--flip", action=argparse.BooleanOptionalAction, default=None, help="horizontal flips (on)")
    augment.add_argument("--cutout", type=int, metavar="S", help="cut one SxS square out of each training image (0: off)")
    augment.add_argument(
        "--augment-noise", metavar="gaussian:SIGMA",
        help="add Gaussian noise of std SIGMA (pixel units) to every training image, Yin et al. 2019 (none)",
    )
    augment.add_argument(
        "--apr", choices=("none", "p", "s", "ps"),
        help="amplitude-phase recombination (Chen et al. 2021): p = amplitude of another image of the batch, s = of "
        "another crop/flip of the same image, ps = both (none)",
    )
    augment.add_argument("--apr-probability", type=float, metavar="P", help="share of images APR recombines (0.5)")
    augment.add_argument("--tta-flip", action=argparse.BooleanOptionalAction, default=None, help="flip TTA at eval")
    augment.add_argument(
        "--tta-translate",
        type=int,
        metavar="T",
        help="final evaluation also averages over shifts by (+T, +T) and (-T, -T) pixels (0: off)",
    )
    augment.add_argument("--eval-batch-size", type=int, metavar="B", help="evaluation batch size (256)")

    speed = parser.add_argument_group("speed")
    speed.add_argument("--device", metavar="DEV", help="auto (default), cpu, cuda, cuda:N")
    speed.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), help="autocast precision (auto)")
    speed.add_argument("--channels-last", choices=("auto", "true", "false"), help="channels_last layout (auto)")
    speed.add_argument(
        "--depthwise-fp32", choices=("auto", "true", "false"),
        help="run depthwise convolutions in fp32 under bf16 autocast (auto: where measured faster for the model)",
    )
    speed.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None, help="torch.compile")


def add_model_source_arguments(group) -> None:
    """The options of an external model (``tv:``, ``timm:``, ``py:``), shared by ``train`` and ``filters``. Literal
    here, not imported from :mod:`freqprobe.models.sources` (which imports torch): building the parser must not."""
    group.add_argument(
        "--model-arg",
        dest="model_args",
        action="append",
        metavar="KEY=VALUE",
        help="keyword argument of a tv:/timm:/py: factory (repeatable; VALUE read as int, float, true/false or text)",
    )
    group.add_argument(
        "--weights",
        metavar="FILE|pretrained",
        help="initial weights: a .safetensors/.pt/.pth state dict (module./model. prefixes handled), or 'pretrained' "
        "for torchvision's/timm's default weights from their local cache (their ImageNet mean/std become the "
        "normalization)",
    )
    group.add_argument(
        "--channel-adapter",
        choices=("repeat", "sum-stem"),
        help="1-channel data on a 3-channel network: repeat the grey channel (default) or sum the stem's weights "
        "over its input channels",
    )
    group.add_argument(
        "--small-input",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="adapt an ImageNet stem to 32x32 images as CIFAR ports do: 7x7 stride-2 stem -> 3x3 stride 1 "
        "(3x3 stride-2 stems -> stride 1), no max-pool",
    )


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    from freqprobe.data.commands import add_dataset_arguments

    add_dataset_arguments(parser, required=False)
    # None marks "not given", so the --config file and the preset are not overridden by argparse defaults
    parser.set_defaults(dataset=None, data_dir=None, val_fraction=None, split_seed=None)


def explicit_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The TrainConfig fields the user gave on the command line."""
    from freqprobe.train.config import FIELD_NAMES

    return {name: getattr(args, name) for name in FIELD_NAMES if getattr(args, name, None) is not None}


def config_from_args(args: argparse.Namespace):
    """The resolved :class:`TrainConfig`: saved run options (``--resume``) or defaults < preset < file < flags."""
    from freqprobe.train.config import config_from_dict, config_from_toml, read_toml, resolve_config
    from freqprobe.train.run_folder import RunPaths

    flags = explicit_flags(args)
    if args.resume:
        saved = _saved_config(Path(args.resume))
        if saved is not None:
            file_values = read_toml(args.config) if args.config else {}
            return config_from_dict({**saved, **file_values, **flags}, source=str(RunPaths(Path(args.resume)).config))
    if args.config:
        return config_from_toml(args.config, flags)
    return resolve_config({}, flags)


def _saved_config(run: Path) -> dict | None:
    from freqprobe.errors import ConfigError

    from freqprobe.train.run_folder import RunPaths

    path = RunPaths(run).config
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))["config"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(f"{path} is not a freqprobe run config; resume a folder written by freqprobe train") from None


def run_train(args: argparse.Namespace) -> int:
    from freqprobe.errors import ConfigError
    from freqprobe.train.distributed import launched_by_torchrun
    from freqprobe.train.engine import run_training

    if args.list_models:
        return _list_models(args)
    out = _out_dir(args)
    if args.processes is not None and not launched_by_torchrun():
        from freqprobe.train.launch import launch_processes, processes_value

        count = processes_value(args.processes)
        if count > 1:
            config_from_args(args)  # a bad option fails here, once, not in every rank
            return launch_processes(getattr(args, "argv", sys.argv[1:]), count)
    config = config_from_args(args)
    if not config.dataset:
        if args.resume:
            raise ConfigError(f"nothing to resume in {args.resume} (no config.json); start the run with --out instead")
        raise ConfigError("no dataset given; pass --dataset NAME (cifar10, fashion-mnist, folder:PATH) or --config")
    if args.download:
        _download(config)
    metrics = run_training(
        config,
        out,
        resume=bool(args.resume),
        force=args.force,
        progress=not args.no_progress and sys.stderr.isatty(),
        stop_after=args.stop_after,
    )
    if metrics.get("complete") is False or os.environ.get("RANK", "0") != "0":
        return 0  # under torchrun only rank 0 reports
    from freqprobe.tables import format_accuracy

    print(f"{out}: test accuracy {format_accuracy(metrics['test_accuracy'])}, "
          f"val accuracy {format_accuracy(metrics['val_accuracy'])}")
    from freqprobe.plots.learning_curve import draw_run_learning_curve

    print(f"wrote {draw_run_learning_curve(out, args.figure_format)}")
    return 0


def _list_models(args: argparse.Namespace) -> int:
    from freqprobe.models.cost import FLOPS_DEFINITION, model_cost_table

    width = 1.0 if args.width_multiplier is None else args.width_multiplier
    print(f"registered models at width multiplier {width:g}, 10 classes; FLOPs of one image: {FLOPS_DEFINITION}")
    print("\n".join(model_cost_table(width)))
    return 0


def _out_dir(args: argparse.Namespace) -> Path:
    from freqprobe.errors import ConfigError

    if args.resume and args.out and Path(args.out).resolve() != Path(args.resume).resolve():
        raise ConfigError(f"--resume {args.resume} and --out {args.out} differ; a resumed run stays in its folder")
    out = args.resume or args.out
    if not out:
        raise ConfigError("no run folder given; pass --out RUN (or --resume RUN)")
    return Path(out)


def _download(config) -> None:
    from freqprobe.data import download

    if not config.dataset.startswith("folder:"):
        download(config.dataset, config.data_dir)

"""Choosing the fast execution paths for this machine: device, autocast precision, memory format, threads.

Measured on a 2-core AMD EPYC (Zen 4, AVX512-BF16), torch 2.13 CPU, resnet20 on 3x32x32, batch 256, bare SGD step
(best of 4 interleaved rounds): fp32 442 images/s, fp32 + channels_last 537, bf16 autocast 870, bf16 +
channels_last 927, the same with the engine's batched crop + flip 920 (the data path costs < 1%), bf16 +
channels_last + ``torch.compile`` 742 (after 46 s of compiling). So ``auto`` picks bf16 autocast on CPUs with
native bf16 (AVX512-BF16 or AMX; emulated bf16 is slower than fp32) and channels_last on every CPU;
``torch.compile`` is opt-in. On CUDA: bf16 autocast where supported (fp16 with a GradScaler otherwise),
channels_last, data resident on the GPU, cudnn.benchmark.

Not every architecture gains from them: depthwise convolutions run slower in bf16 on this CPU than in fp32, while
the dense (1x1) convolutions and linear layers around them gain, so some networks train fastest in bf16 with their
depthwise convolutions kept in fp32 (``depthwise_fp32``, :func:`keep_depthwise_in_fp32`). ``CPU_CHOICES_BY_MODEL``
holds the registered models whose best CPU setting differs from the default, as ``benchmarks/train_architectures.py
--variants`` and step timings measured it (BENCHMARKS.md); ``auto`` takes them from there. Models
from ``tv:``, ``timm:`` and ``py:`` get the default: run that benchmark on them and pass ``--precision``,
``--channels-last`` or ``--depthwise-fp32`` if it says so.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from freqprobe.errors import ConfigError
from freqprobe.train.config import TrainConfig

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}

# registered model -> (precision, channels_last, depthwise_fp32, what was measured) on a CPU with native bf16, training
# images/s at 3x32x32, batch 256, 2 threads (2-core Xeons with AMX, 2026-12-02; BENCHMARKS.md)
CPU_CHOICES_BY_MODEL: dict[str, tuple[str, bool, bool, str]] = {
    "shufflenet_v2": (
        "bf16", False, True, "bf16 with fp32 depthwise 299 images/s against fp32 233, bf16 229, bf16 + channels_last 203"
    ),
    "convnext_atto": (
        "bf16", True, True,
        "bf16 + channels_last with fp32 depthwise 569 images/s against fp32 422, fp32 + channels_last 469, bf16 415",
    ),
}


@dataclass
class FastPaths:
    """The execution choices of a run; ``reasons`` says why each ``auto`` resolved the way it did."""

    device: str
    precision: str  # "fp32" | "bf16" | "fp16"
    channels_last: bool
    compile: bool
    threads: int
    cudnn_benchmark: bool
    data_on_device: bool
    grad_scaler: bool
    depthwise_fp32: bool = False  # depthwise convolutions in fp32 under autocast (keep_depthwise_in_fp32)
    reasons: list[str] = field(default_factory=list)

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.device)

    @property
    def device_type(self) -> str:
        return self.torch_device.type

    def autocast(self) -> contextlib.AbstractContextManager:
        """The autocast context of the forward pass (a no-op for fp32)."""
        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=AUTOCAST_DTYPES[self.precision])

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """One line for the start of a run."""
        return (
            f"device {self.device}, precision {self.precision}"
            + (" (depthwise convolutions fp32)" if self.depthwise_fp32 else "")
            + f", channels_last {self.channels_last}, compile {self.compile}, threads {self.threads}"
            + (f", cudnn.benchmark, data on GPU" if self.device_type == "cuda" else "")
        )


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX: bf16 matmuls/convolutions run natively instead of being emulated."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def available_cores() -> int:
    """CPU cores this process may run on (the affinity mask, which respects taskset and container limits)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def resolve_device(requested: str, local_rank: int = 0) -> str:
    """``auto`` -> ``cuda:LOCAL_RANK`` when a GPU is visible, else ``cpu``.

    Raises:
        ConfigError: CUDA requested but not available.
    """
    if requested == "auto":
        return f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"device {requested!r} requested but CUDA is not available; use --device cpu or auto")
        return requested if ":" in requested else f"cuda:{local_rank}"
    return requested


def choose_fast_paths(config: TrainConfig, local_rank: int = 0, local_world_size: int = 1) -> FastPaths:
    """Resolve every ``auto`` in ``config`` for this machine and process."""
    device = resolve_device(config.device, local_rank)
    reasons: list[str] = []
    measured = None if device.startswith("cuda") or not cpu_has_native_bf16() else CPU_CHOICES_BY_MODEL.get(config.model)
    if device.startswith("cuda"):
        precision, channels_last = _cuda_choices(config, device, reasons)
    else:
        precision, channels_last = _cpu_choices(config, reasons, measured)
    depthwise_fp32 = _depthwise_choice(config, precision, measured, reasons)
    threads = max(1, available_cores() // max(1, local_world_size))
    reasons.append(f"threads: {threads} (cores available / processes on this machine)")
    on_cuda = device.startswith("cuda")
    return FastPaths(
        device=device,
        precision=precision,
        channels_last=channels_last,
        compile=config.compile,
        threads=threads,
        cudnn_benchmark=on_cuda,
        data_on_device=on_cuda,
        grad_scaler=precision == "fp16",
        depthwise_fp32=depthwise_fp32,
        reasons=reasons,
    )


def _cpu_choices(
    config: TrainConfig, reasons: list[str], measured: tuple[str, bool, bool, str] | None = None
) -> tuple[str, bool]:
    native_bf16 = cpu_has_native_bf16()
    if config.precision == "fp16":
        raise ConfigError("precision fp16 is for CUDA only; on CPU use bf16, fp32 or auto")
    if measured is not None:
        auto_precision, auto_channels_last, _, why = measured
        precision_why = f"{auto_precision} (measured fastest for {config.model} on CPU: {why})"
        channels_last_why = f"{auto_channels_last} (measured fastest for {config.model} on CPU)"
    else:
        auto_precision = "bf16" if native_bf16 else "fp32"
        precision_why = (
            "bf16 autocast (the CPU has native bf16)"
            if native_bf16
            else "fp32 (no native bf16 on this CPU; emulated bf16 is slower)"
        )
        auto_channels_last = True  # measured faster with oneDNN in both fp32 and bf16
        channels_last_why = "True (faster with oneDNN on CPU)"
    if config.precision == "auto":
        precision = auto_precision
        reasons.append(f"precision: {precision_why}")
    else:
        precision = config.precision
        reasons.append(f"precision: {precision} (requested)")
    if config.channels_last == "auto":
        channels_last = auto_channels_last
        reasons.append(f"channels_last: {channels_last_why}")
    else:
        channels_last = bool(config.channels_last)
        reasons.append(f"channels_last: {channels_last} (requested)")
    return precision, channels_last


def _depthwise_choice(
    config: TrainConfig, precision: str, measured: tuple[str, bool, bool, str] | None, reasons: list[str]
) -> bool:
    if precision == "fp32":
        if config.depthwise_fp32 is True:
            reasons.append("depthwise_fp32: moot (the whole model runs in fp32)")
        return False
    if config.depthwise_fp32 != "auto":
        reasons.append(f"depthwise_fp32: {config.depthwise_fp32} (requested)")
        return bool(config.depthwise_fp32)
    chosen = measured is not None and measured[2]
    reasons.append(
        f"depthwise_fp32: {chosen} ({'measured fastest for ' + config.model if measured else 'default'})"
    )
    return chosen


def keep_depthwise_in_fp32(model: nn.Module) -> int:
    """Make every depthwise ``nn.Conv2d`` of ``model`` (groups == in_channels > 1) run in fp32 under autocast, in
    place; returns how many. Their class becomes :class:`Fp32DepthwiseConv2d`: parameters, buffers and state-dict
    keys are unchanged. Subclasses of ``nn.Conv2d`` (e.g. padding-aware variants) are left as they are.

    Example:
        >>> conv = nn.Conv2d(4, 4, 3, groups=4)
        >>> keep_depthwise_in_fp32(nn.Sequential(conv)), type(conv).__name__
        (1, 'Fp32DepthwiseConv2d')
    """
    count = 0
    for module in model.modules():
        if type(module) is nn.Conv2d and module.groups > 1 and module.groups == module.in_channels:
            module.__class__ = Fp32DepthwiseConv2d
            count += 1
    return count


class Fp32DepthwiseConv2d(nn.Conv2d):
    """A depthwise ``nn.Conv2d`` that leaves autocast for its own computation: fp32 input, fp32 output."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        with torch.autocast(input.device.type, enabled=False):
            return super().forward(input.float())


def _cuda_choices(config: TrainConfig, device: str, reasons: list[str]) -> tuple[str, bool]:
    if config.precision == "auto":
        precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        reasons.append(f"precision: {precision} autocast (CUDA{'' if precision == 'bf16' else ', no bf16: fp16 + GradScaler'})")
    else:
        precision = config.precision
        reasons.append(f"precision: {precision} (requested)")
    channels_last = True if config.channels_last == "auto" else bool(config.channels_last)
    reasons.append(f"channels_last: {channels_last}{' (tensor cores)' if config.channels_last == 'auto' else ' (requested)'}")
    return precision, channels_last


def apply_process_settings(paths: FastPaths) -> None:
    """Set the process-wide knobs the choices need (threads, cudnn autotuning, current CUDA device)."""
    torch.set_num_threads(paths.threads)
    if paths.device_type == "cuda":
        torch.cuda.set_device(paths.torch_device)
        torch.backends.cudnn.benchmark = paths.cudnn_benchmark

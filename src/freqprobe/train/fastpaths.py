"""Choosing the fast execution paths for this machine: device, autocast precision, memory format, threads.

Measured on a 2-core AMD EPYC (Zen 4, AVX512-BF16), torch 2.13 CPU, resnet20 on 3x32x32, batch 256, bare SGD step
(best of 4 interleaved rounds): fp32 442 images/s, fp32 + channels_last 537, bf16 autocast 870, bf16 +
channels_last 927, the same with the engine's batched crop + flip 920 (the data path costs < 1%), bf16 +
channels_last + ``torch.compile`` 742 (after 46 s of compiling). So ``auto`` picks bf16 autocast on CPUs with
native bf16 (AVX512-BF16 or AMX; emulated bf16 is slower than fp32) and channels_last on every CPU;
``torch.compile`` is opt-in. On CUDA: bf16 autocast where supported (fp16 with a GradScaler otherwise),
channels_last, data resident on the GPU, cudnn.benchmark.

Not every architecture gains from them: networks built of depthwise and small grouped convolutions run their many
small kernels no faster in bf16, and a LayerNorm network pays for channels_last. ``CPU_CHOICES_BY_MODEL`` holds
the registered models whose best CPU setting differs from the default, as ``benchmarks/train_architectures.py
--variants`` measured it (BENCHMARKS.md); ``auto`` takes them from there. Models from ``tv:``, ``timm:`` and
``py:`` get the default: run that benchmark on them and pass ``--precision``/``--channels-last`` if it says so.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import asdict, dataclass, field

import torch

from freqprobe.errors import ConfigError
from freqprobe.train.config import TrainConfig

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}

# registered model -> (precision, channels_last, what was measured) on a CPU with native bf16, training images/s of
# the engine at 3x32x32, batch 256, 2 threads (2-core Xeon with AMX, 2026-12-02; BENCHMARKS.md)
CPU_CHOICES_BY_MODEL: dict[str, tuple[str, bool, str]] = {
    "shufflenet_v2": ("fp32", False, "fp32 237 images/s against bf16 + channels_last 192"),
    "convnext_atto": ("fp32", False, "fp32 contiguous 415 images/s against bf16 + channels_last 364"),
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
            f"device {self.device}, precision {self.precision}, channels_last {self.channels_last}, "
            f"compile {self.compile}, threads {self.threads}"
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
    if device.startswith("cuda"):
        precision, channels_last = _cuda_choices(config, device, reasons)
    else:
        precision, channels_last = _cpu_choices(config, reasons, CPU_CHOICES_BY_MODEL.get(config.model))
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
        reasons=reasons,
    )


def _cpu_choices(
    config: TrainConfig, reasons: list[str], measured: tuple[str, bool, str] | None = None
) -> tuple[str, bool]:
    native_bf16 = cpu_has_native_bf16()
    if config.precision == "fp16":
        raise ConfigError("precision fp16 is for CUDA only; on CPU use bf16, fp32 or auto")
    if measured is not None and native_bf16:
        auto_precision, auto_channels_last, why = measured
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

"""Running many small torch computations side by side: one single-threaded torch call per worker thread.

Small operands (a few-hundred-row SVD, the FFT of a few feature maps) gain little from torch's own intra-op threads
and spin them on a loaded machine; running as many of them at once as torch has threads, each on one thread, keeps
every core busy instead (torch releases the GIL inside its kernels).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import torch

Item = TypeVar("Item")
Result = TypeVar("Result")


@contextmanager
def single_threaded_torch():
    """torch (and its BLAS, LAPACK and FFT) on one thread inside; the caller's thread count restored after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def map_single_threaded(function: Callable[[Item], Result], items: Iterable[Item]) -> list[Result]:
    """``[function(item) for item in items]``, in order, on ``torch.get_num_threads()`` worker threads with torch
    single-threaded in each; plainly in this thread when torch has one thread or there is only one item.

    Example:
        >>> map_single_threaded(lambda x: x * 2, [1, 2, 3])
        [2, 4, 6]
    """
    items = list(items)
    workers = min(len(items), max(1, torch.get_num_threads()))
    if workers <= 1:
        return [function(item) for item in items]
    with single_threaded_torch(), ThreadPoolExecutor(workers) as pool:
        return list(pool.map(function, items))

"""freqprobe.parallel: results in order, torch single-threaded inside the workers, the thread count restored."""

from __future__ import annotations

import pytest
import torch

from freqprobe.parallel import map_single_threaded, single_threaded_torch


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_results_keep_the_order_of_the_items_and_workers_run_single_threaded(two_threads):
    seen_threads = []

    def square_sum(values: torch.Tensor) -> float:
        seen_threads.append(torch.get_num_threads())
        return float(values.square().sum())

    items = [torch.arange(n, dtype=torch.float64) for n in range(1, 9)]
    assert map_single_threaded(square_sum, items) == [sum(k * k for k in range(n)) for n in range(1, 9)]
    assert seen_threads == [1] * len(items)
    assert torch.get_num_threads() == 2


def test_an_error_in_a_worker_reaches_the_caller_and_the_threads_are_restored(two_threads):
    def fail(_item):
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        map_single_threaded(fail, [1, 2])
    assert torch.get_num_threads() == 2
    with pytest.raises(RuntimeError):
        with single_threaded_torch():
            assert torch.get_num_threads() == 1
            raise RuntimeError
    assert torch.get_num_threads() == 2

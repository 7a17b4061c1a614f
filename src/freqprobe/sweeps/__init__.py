"""freqprobe.sweeps: a grid of training runs in one output folder, shared by any number of machines, summarized as
tables; and ``reproduce``, the original study's table re-run as such a sweep.

    from freqprobe.sweeps import expand_grid, load_spec, run_sweep
    spec = load_spec("experiments/example_sweep.toml")
    run_sweep(spec, "out/sweep", shard=(0, 2))      # DIR/runs/<name>/, DIR/results.csv, DIR/results.md

Modules, each importing only those above it: ``spec`` (the TOML spec) < ``grid`` (grid points, run names, shards)
< ``layout`` (the output folder, sweep.json) < ``locks``, ``jobs`` < ``tables`` (results.csv / results.md) <
``runner`` (training the runs, exit codes) < ``original``, ``reproduce`` < ``commands`` (the CLI).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from freqprobe.lazy import lazy_exports

_EXPORTS = {
    "SweepSpec": "freqprobe.sweeps.spec",
    "load_spec": "freqprobe.sweeps.spec",
    "spec_from_dict": "freqprobe.sweeps.spec",
    "SweepRun": "freqprobe.sweeps.grid",
    "expand_grid": "freqprobe.sweeps.grid",
    "shard_runs": "freqprobe.sweeps.grid",
    "record_sweep": "freqprobe.sweeps.layout",
    "collect": "freqprobe.sweeps.tables",
    "run_sweep": "freqprobe.sweeps.runner",
    "SweepOutcome": "freqprobe.sweeps.runner",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from freqprobe.sweeps.grid import SweepRun, expand_grid, shard_runs
    from freqprobe.sweeps.layout import record_sweep
    from freqprobe.sweeps.runner import SweepOutcome, run_sweep
    from freqprobe.sweeps.spec import SweepSpec, load_spec, spec_from_dict
    from freqprobe.sweeps.tables import collect

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

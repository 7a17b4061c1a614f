"""Write RUN/filter_state.safetensors for a run trained before freqprobe kept it, by refitting its input filter.

Runs trained since issue 12 write ``filter_state.safetensors`` themselves when training starts. Older run folders
kept the fitted state of a filter that needs fitting (``whiten``) only in ``checkpoint.pt``, which is not committed,
so their analyses refuse to run. The fit is deterministic: the training split that ``config.json`` records (dataset,
``val_fraction``, ``split_seed``, ``subset``) is loaded the way the trainer loads it and the filter is fitted on it
exactly as the trainer fits it; the file's metadata says it was refitted, and by this script.

    python scripts/refit_filter_state.py results/reproduce-fashion-mnist-resnet20-fast/runs/fashion-mnist__resnet20__whiten__seed0

Refuses (one line, exit 2) a run whose filter needs no fit, or that already has the file (``--force`` replaces it).
"""

from __future__ import annotations

import argparse
import sys

from freqprobe.errors import FreqprobeError
from freqprobe.runs import RunFolder
from freqprobe.train.config import config_from_dict
from freqprobe.train.prepare import fit_input_filter
from freqprobe.train.run_folder import write_filter_state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a run folder")
    parser.add_argument("--force", action="store_true", help="replace an existing filter_state.safetensors")
    args = parser.parse_args(argv)
    try:
        run = RunFolder(args.run)
        config = config_from_dict(run.info["config"], str(run.paths.config))
        if run.paths.filter_state.exists() and not args.force:
            raise FreqprobeError(f"{run.paths.filter_state} exists; pass --force to replace it")
        input_filter = fit_input_filter(config)
        if not input_filter.requires_fit:
            raise FreqprobeError(f"{args.run}: filter {input_filter.spec!r} fits nothing; there is no state to write")
        path = write_filter_state(run.root, input_filter, note="refitted on the run's training split by "
                                                                 "scripts/refit_filter_state.py")
    except FreqprobeError as error:
        print(f"refit_filter_state: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""freqprobe.runs: reading a finished ``freqprobe train`` run folder (config, metrics, weights, fitted filter).

    from freqprobe.runs import RunFolder
    run = RunFolder("runs/blur2")
    run.completeness_problem()   # None when metrics.json and model.safetensors are both whole
    model = run.load_model()     # eval mode, normalization included
    input_filter = run.load_input_filter()
    splits = run.load_splits()   # the run's own train / val / test split (its val_fraction and split_seed)

The writing side (file names, resume rules) is :mod:`freqprobe.train.run_folder`.
"""

from freqprobe.runs.folder import RunFolder, RunFolderError

__all__ = ["RunFolder", "RunFolderError"]

"""fit_input_filter: the filter a run was trained with, refitted from its config alone."""

from __future__ import annotations

import torch

from freqprobe.train.config import config_from_dict
from freqprobe.train.prepare import fit_input_filter, prepare_data


def test_the_refitted_filter_equals_the_one_training_fitted(shared_data):
    config = config_from_dict(
        {"dataset": "fashion-mnist", "filter": "whiten", "subset": 600, "limit_eval": 50, "val_fraction": 0.1,
         "split_seed": 3, "data_dir": str(shared_data)}
    )
    trained = prepare_data(config).input_filter
    refit = fit_input_filter(config)
    assert refit.is_fitted
    torch.testing.assert_close(refit.mean_amplitude, trained.mean_amplitude, rtol=0, atol=0)
    other_split = fit_input_filter(config_from_dict({**config.to_dict(), "split_seed": 4}))
    assert not torch.equal(other_split.mean_amplitude, trained.mean_amplitude)  # the split decides the fit

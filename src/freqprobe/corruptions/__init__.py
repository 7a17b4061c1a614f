"""Common corruptions (CIFAR-10-C, Hendrycks & Dietterich 2019) generated in torch, their perturbation spectra, and
the released CIFAR-10-C files.

One module per family: :mod:`~freqprobe.corruptions.noise`, :mod:`~freqprobe.corruptions.blur`,
:mod:`~freqprobe.corruptions.weather`, :mod:`~freqprobe.corruptions.digital`; the parameter table with its source
and adaptations is :mod:`~freqprobe.corruptions.table`; :func:`corrupt` applies one by name and severity;
:mod:`~freqprobe.corruptions.spectrum` measures what a corruption changes in frequency; :mod:`~freqprobe.corruptions.
released` reads the released ``.npy`` files; :mod:`~freqprobe.corruptions.evaluation` scores a model
(``freqprobe sensitivity RUN --corruptions``).
"""

from freqprobe.corruptions.generate import Corruption, check_corruption, corrupt, corruption_seed
from freqprobe.corruptions.table import ALL, BENCHMARK, EXTRA, PARAMETERS, SEVERITIES, SOURCE

__all__ = [
    "ALL",
    "BENCHMARK",
    "EXTRA",
    "PARAMETERS",
    "SEVERITIES",
    "SOURCE",
    "Corruption",
    "check_corruption",
    "corrupt",
    "corruption_seed",
]

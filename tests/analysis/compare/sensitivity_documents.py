"""Hand-made sections of sensitivity.json shared by the compare tests."""

from __future__ import annotations

import numpy as np

BANDS = {
    "radii": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
    "low_pass_accuracy": [0.1, 0.2, 0.6, 0.8, 0.9, 0.9, 0.9],
    "high_pass_accuracy": [0.9, 0.7, 0.3, 0.2, 0.1, 0.1, 0.1],
    "clean_accuracy": 0.9,
}


def heat_map_with_one_bad_frequency(size: int = 8, row: int = 1, column: int = 2) -> dict:
    """An error grid at the clean error everywhere except one conjugate pair, plus one unevaluated cell."""
    error = [[0.2] * size for _ in range(size)]
    error[row][column] = error[-row % size][-column % size] = 0.7
    error[4][4] = None
    return {"error": error, "eps": 4.0, "clean_error": 0.2, "frequencies_y": np.fft.fftfreq(size).tolist(),
            "frequencies_x": np.fft.fftfreq(size).tolist()}

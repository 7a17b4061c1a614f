"""freqprobe: frequency-response characterization of convolutional networks."""

__version__ = "0.1.0"

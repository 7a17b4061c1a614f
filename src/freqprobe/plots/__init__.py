"""freqprobe.plots"""

"""freqprobe.filters"""

"""freqprobe.analysis"""

"""freqprobe.models"""

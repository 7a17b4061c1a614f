"""freqprobe.train"""

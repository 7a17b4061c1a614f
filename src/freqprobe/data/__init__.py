"""freqprobe.data"""

"""freqprobe.report"""

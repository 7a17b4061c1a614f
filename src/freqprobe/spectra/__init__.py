"""freqprobe.spectra"""

"""User-facing errors.

Anything a user can cause (bad path, bad checksum, unknown name, impossible parameter) raises
:class:`FreqprobeError` with one line that names the file or value and says how to fix it. The CLI
prints that line and exits with status 2, without a traceback.
"""

from __future__ import annotations


class FreqprobeError(Exception):
    """An error caused by the user's input, with a one-line, actionable message."""


class DataError(FreqprobeError):
    """Missing, corrupt, truncated or mismatching dataset files."""


class ChecksumError(DataError):
    """A downloaded or local file does not match its published checksum."""

    def __init__(self, path, expected: str, actual: str, algorithm: str = "md5"):
        self.path, self.expected, self.actual = path, expected, actual
        super().__init__(
            f"checksum mismatch for {path}: expected {algorithm} {expected}, got {actual}; "
            f"delete the file and download it again"
        )


class ConfigError(FreqprobeError):
    """Impossible or unknown parameters (filter specs, model names, training options)."""


class TrainingDiverged(FreqprobeError):
    """A NaN or infinite loss; the last good checkpoint is kept."""


class WriteError(FreqprobeError):
    """An output that cannot be written: a full or read-only disk, or an output path that is not a folder."""

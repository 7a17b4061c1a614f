"""The ``freqprobe`` command line. Each concept contributes its sub-commands from its own ``commands`` module.

Handlers import their heavy dependencies lazily so that ``freqprobe --help`` stays quick.
User errors (:class:`freqprobe.errors.FreqprobeError`) print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Each module defines add_commands(subparsers); a handler is stored as the parser default ``handler``.
COMMAND_MODULES = (
    "freqprobe.data.commands",
    "freqprobe.spectra.commands",
    "freqprobe.train.commands",
    "freqprobe.sweeps.commands",
    "freqprobe.analysis.commands",
    "freqprobe.analysis.sensitivity_commands",
    "freqprobe.analysis.compare_commands",
    "freqprobe.report.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="freqprobe",
        description="Frequency-response characterization of convolutional networks.",
    )
    parser.add_argument("--version", action="version", version=f"freqprobe {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as missing:
            if missing.name == module_name:
                continue  # concept not built yet
            raise
        module.add_commands(subparsers)
    return parser


def _version() -> str:
    from freqprobe import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    from freqprobe.errors import FreqprobeError
    from freqprobe.train.launch import accept_interrupts_if_launched

    accept_interrupts_if_launched()

    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for commands that relaunch themselves (train --processes)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        result = handler(args)
    except FreqprobeError as error:
        print(f"freqprobe: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("freqprobe: interrupted; completed work is saved and the run can be resumed", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: the reader left, which is not an error of ours.
        sys.stderr.close()
        return 0
    except OSError as error:
        if os.environ.get("FREQPROBE_DEBUG"):
            raise
        print(f"freqprobe: error: {error}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())

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
    "freqprobe.analysis.features_commands",
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
    # No try: a command module that fails to import (renamed, broken) must fail loudly, not drop its commands.
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_commands(subparsers)
    return parser


# import name -> what `pip install` calls it, where the two differ
PIP_NAMES = {"PIL": "pillow"}


def missing_package_message(command: str | None, missing: ModuleNotFoundError) -> str | None:
    """One line naming the third-party package ``command`` needs and how to install it, or None when the missing
    module is part of freqprobe itself (a defect, which must surface as a traceback) or unnamed.

    >>> missing_package_message("compare", ModuleNotFoundError("No module named 'PIL'", name="PIL.Image"))
    "the compare command needs the Python package 'pillow', which is not installed: pip install pillow"
    >>> missing_package_message("train", ModuleNotFoundError(name="freqprobe.train.gone")) is None
    True
    """
    top_level = (missing.name or "").partition(".")[0]
    if not top_level or top_level == "freqprobe":
        return None
    package = PIP_NAMES.get(top_level, top_level)
    return f"the {command} command needs the Python package '{package}', which is not installed: pip install {package}"


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
    except ModuleNotFoundError as missing:
        # Handlers import heavy (and optional) packages lazily, so a missing one surfaces only here.
        message = missing_package_message(args.command, missing)
        if message is None:
            raise
        print(f"freqprobe: error: {message}", file=sys.stderr)
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

"""Lazy package exports (PEP 562): a package lists ``name -> module`` and loads each module on first access, so
importing a light submodule (``freqprobe.plots.style``, the CLI's parsers) does not pull in torch."""

from __future__ import annotations

import importlib
from typing import Any, Callable


def lazy_exports(package: str, exports: dict[str, str], namespace: dict[str, Any]) -> tuple[Callable, Callable]:
    """``(__getattr__, __dir__)`` for ``package`` whose module globals are ``namespace``.

    A loaded name is stored in ``namespace``, so later lookups skip ``__getattr__``; an unknown name raises
    AttributeError as a plain module would.
    """

    def __getattr__(name: str) -> Any:
        module_name = exports.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_name), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__

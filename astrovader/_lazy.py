"""Lazy re-exports: a package's public names, imported from their modules on first use.

A package whose modules need TensorFlow (or other heavy imports) re-exports their
names without importing them: ``from astrovader.model import AstroVaDEr`` imports
:mod:`astrovader.model.vade` then, and ``import astrovader.model.gmm_math`` alone
imports nothing else of the package.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

__all__ = ["lazy_exports"]


def lazy_exports(package: str, names: dict[str, str]) -> tuple[Callable, Callable]:
    """The ``__getattr__`` and ``__dir__`` of a package that re-exports ``names`` lazily.

    Args:
        package: The package's ``__name__``.
        names: Each exported name → the module (relative to the package) defining it.

    Returns:
        ``(__getattr__, __dir__)``, to assign at the package's top level.
    """

    def __getattr__(name: str):
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    def __dir__() -> list[str]:
        return sorted({*names, *vars(importlib.import_module(package))})

    return __getattr__, __dir__

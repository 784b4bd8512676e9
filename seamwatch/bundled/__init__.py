"""Where the bundled rule catalog and sample logs are, in a checkout and in an installed wheel.

The repository keeps them at its top, ``rules/`` and ``examples/``, where a reader looks for
them. The wheel carries both as package data of this package (``pyproject.toml`` maps
``seamwatch.bundled.rules`` to ``rules/`` and ``seamwatch.bundled.examples`` to
``examples/``), read through :mod:`importlib.resources`, so an installed ``seamwatch`` runs
``rules check`` and ``run`` with no checkout beside it.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal

BundledName = Literal["rules", "examples"]

# The checkout's top, two levels above this file (seamwatch/bundled/__init__.py).
_CHECKOUT = Path(__file__).resolve().parents[2]


def bundled_dir(name: BundledName) -> Path:
    """The directory of the bundled ``rules`` or ``examples``.

    Installed from a wheel they are package data (``seamwatch/bundled/<name>/``); run from a
    checkout (an editable install, ``PYTHONPATH``) they are the checkout's own ``<name>/``,
    so an edit there is what the next run reads.
    """
    packaged = files(__name__) / name
    # Installed wheels unpack to the file system: the resource is a real directory.
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return _CHECKOUT / name


def rules_dir() -> Path:
    """The bundled rule catalog (``rules/`` of the repository)."""
    return bundled_dir("rules")


def examples_dir() -> Path:
    """The bundled sample logs (``examples/`` of the repository)."""
    return bundled_dir("examples")

"""Rasa's own code for the length of a block, in place of one of components/speedups.py's
patches: the speed-up tests run the same thing both ways and compare."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Patch(Protocol):
    """A speed-up module: it installs its patch and can take it out again."""

    def install(self) -> None: ...

    def uninstall(self) -> None: ...


@contextmanager
def rasas_own(patch: Patch) -> Iterator[None]:
    """Rasa's own methods inside the block; the patch is back afterwards, also on error."""
    patch.uninstall()
    try:
        yield
    finally:
        patch.install()

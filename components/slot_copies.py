"""Rasa 3.6's slots copied without the pickle protocol.

Every new ``DialogueStateTracker`` copies each slot of the domain with ``copy.copy``
(``{slot.name: copy.copy(slot) for slot in slots}``), and Rasa makes many trackers a turn:
the one read from the store, a copy before every action, one per earlier state when a
policy looks back over the conversation, temporary ones in forms. ``copy.copy`` of a plain
object goes through ``__reduce_ex__`` and ``copyreg``; for our 61 slots that is 0.2 ms a
tracker, about 2 ms of the Rasa server's time a turn under load (README "Measurements").

A slot is a plain object (no ``__slots__`` with values, no ``__reduce__`` or
``__setstate__`` of its own), so ``copy.copy`` makes a new object of its class and gives
it the same attributes; ``__copy__`` below does exactly that, four times faster.
``tests/components/test_slot_copies.py`` compares it with ``copy``'s own way for every
slot of our domain.
"""

from __future__ import annotations

from typing import TypeVar

from rasa.shared.core.slots import Slot

S = TypeVar("S", bound=Slot)


def shallow_copy(slot: S) -> S:
    """A new slot of the same class with the same attributes (what ``copy.copy`` makes)."""
    duplicate = object.__new__(type(slot))
    duplicate.__dict__.update(slot.__dict__)
    return duplicate


def install() -> None:
    """Idempotent: installing twice changes nothing."""
    Slot.__copy__ = shallow_copy  # type: ignore[attr-defined]


def uninstall() -> None:
    """``copy.copy``'s own way again (the tests compare both)."""
    if "__copy__" in vars(Slot):
        del Slot.__copy__  # type: ignore[attr-defined]

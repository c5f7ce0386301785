"""Development kit shared by the tests and the benchmarks, so that neither imports the other.

servers.py starts the project's real servers (Rasa, action server, demo page), stack.py
the whole assistant for a measurement, databases.py makes throw-away PostgreSQL databases,
shopper.py is a socket.io shopper with per-turn timing, and waiting.py holds `eventually`,
the one polling loop. Nothing here imports pytest: skip and fail decisions belong to the
tests' fixtures.
"""

from devkit.waiting import NotYet, eventually, eventually_async

__all__ = ["NotYet", "eventually", "eventually_async"]

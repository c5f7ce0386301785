"""Helpers shared by test suites: starting real servers (servers.py)."""

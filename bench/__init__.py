"""Benchmarks: run as scripts (python bench/<name>.py) or imported as bench.<name>."""

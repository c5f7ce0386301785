"""Retention job: roll up PII-free daily statistics, then prune old tracker events.

The privacy notice promises that bot conversations are deleted after 90 days and that
statistics carry no personal data; this package is what makes both promises true.
Nothing here opens a database at import time: `retention.cli.main` wires it together.
"""

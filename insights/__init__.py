"""Insights for the people who run and design the assistant: a PII-free statistics report
and a redacted export of recent shopper questions. Reads the tracker store the retention
job uses; nothing opens a database at import time.
"""

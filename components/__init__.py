"""Custom Rasa graph components, referenced from config.yml by module path.

Kept empty on purpose: importing this package must not load Rasa, numpy or the model.
"""

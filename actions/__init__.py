"""Custom actions of the retail assistant, one module per topic.

rasa-sdk imports every module of this package and registers each concrete `Action`
subclass by instantiating it without arguments, so shared bases are abstract and every
constructor argument has a default (tests pass their own clients in).
"""

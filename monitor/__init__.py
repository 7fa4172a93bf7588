"""signal monitor: watch news sources for the signals an analyst cares about."""

__version__ = "0.1.0"

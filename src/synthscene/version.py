"""The version of synthscene, in one place (the package metadata and the files it writes)."""

__version__ = "0.1.0"

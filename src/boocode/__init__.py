"""BooCode: a self-hosted AI coding-agent server."""

__version__ = "0.1.0"

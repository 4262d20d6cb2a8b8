"""Errors that stop a process before it starts, each said in one line by the CLI."""

from __future__ import annotations


class StartupRefused(RuntimeError):
    """Something outside BooCode stops it from starting; the message says what to do."""

"""Prompt-cache telemetry: request shapes, segments, break diagnosis, stats."""

from __future__ import annotations

from boocode.cache.recorder import record_model_call
from boocode.cache.request import History, ModelRequest, build_model_request
from boocode.cache.stats import ChatNotFound, cache_stats, cache_summary_line, summary_line

__all__ = [
    "ChatNotFound",
    "History",
    "ModelRequest",
    "build_model_request",
    "cache_stats",
    "cache_summary_line",
    "record_model_call",
    "summary_line",
]

"""Attachments over real HTTP, and in the browser."""

from support.browser import browser, page
from support.live_server import fake_live_server
from support.vision_server import vision_server

__all__ = ["browser", "fake_live_server", "page", "vision_server"]

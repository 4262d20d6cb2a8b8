"""Browser suites: a shared Chromium and real `boocode serve` subprocesses."""

from support.browser import browser, page
from support.live_server import fake_live_server, live_server

__all__ = ["browser", "fake_live_server", "live_server", "page"]

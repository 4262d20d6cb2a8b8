"""The server suites run against real `boocode serve` subprocesses."""

from support.live_server import fake_live_server, fake_server_each_engine, live_server

__all__ = ["fake_live_server", "fake_server_each_engine", "live_server"]

from support.live_server import fake_live_server, fake_server_each_engine

__all__ = ["fake_live_server", "fake_server_each_engine"]

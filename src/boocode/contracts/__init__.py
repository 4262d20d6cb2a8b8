"""Typed shapes of everything that crosses a boundary: REST bodies and WebSocket frames."""

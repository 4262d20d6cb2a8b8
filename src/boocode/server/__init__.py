"""The HTTP and WebSocket server: FastAPI app, routes, WebSocket hub, access control."""

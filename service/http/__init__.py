"""The HTTP API: the Litestar app, its routes, authentication and problem answers."""

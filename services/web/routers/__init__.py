"""Routers of the web service, one module per area."""

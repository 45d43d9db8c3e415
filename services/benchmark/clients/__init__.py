"""Clients of the other services, used by benchmark (ingest only)."""

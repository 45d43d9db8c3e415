"""Ingest's webhooks: the events it sends (outbox) and the ones it receives (Meta, push)."""

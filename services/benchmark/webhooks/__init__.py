"""Outgoing webhooks of the benchmark service."""

"""Syncs from the networks' APIs: backfill on connection, daily schedule, "sync now"."""

"""Outgoing webhooks of the planner service."""

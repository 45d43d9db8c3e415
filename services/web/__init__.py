"""The web service: the staff UI, sessions, users, roles, API tokens. No business data."""

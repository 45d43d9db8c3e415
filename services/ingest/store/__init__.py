"""The ingest store: accounts, daily metrics, posts and their metric snapshots."""

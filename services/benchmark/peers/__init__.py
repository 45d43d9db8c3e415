"""Peer groups, peers and the peer benchmark (step 2, peers)."""

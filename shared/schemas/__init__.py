"""Contract models shared by a backend and the clients that call it."""

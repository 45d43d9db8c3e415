"""Connections to the networks' APIs: OAuth flows, pasted tokens, GA4 keys, their health."""

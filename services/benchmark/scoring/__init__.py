"""Relay scores: the components, their data, the agency's weights and rescoring."""

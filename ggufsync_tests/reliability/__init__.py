"""Reliability: kills, secrets and bad input through the whole sync path."""

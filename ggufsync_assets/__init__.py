"""ggufsync."""

"""Talking to the Hugging Face Hub: fast, polite (rate limits, backoff) and safe (hosts, token)."""

"""Sealed Secrets: sealing, unsealing, keys."""

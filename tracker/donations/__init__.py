"""Donations feature."""

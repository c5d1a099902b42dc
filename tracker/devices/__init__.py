"""Devices feature."""

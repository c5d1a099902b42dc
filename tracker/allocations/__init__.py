"""Allocations feature."""

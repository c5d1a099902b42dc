"""Spreadsheets feature."""

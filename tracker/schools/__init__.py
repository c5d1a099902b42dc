"""Schools feature."""

"""Repairs and warranty: the case behind every faulty tablet, and its replacement."""

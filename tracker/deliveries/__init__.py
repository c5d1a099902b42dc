"""Deliveries feature."""

# Registers how a tablet leaving the road leaves its delivery (a hook of the devices).
from tracker.deliveries import items  # noqa: F401

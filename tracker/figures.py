"""Figures a lower feature's page shows from a higher one: a school's page counts its
tablets, a donation's page the tablets registered against it. The feature that owns the
figure registers how to compute it (`provides`); the page asks by name (`figure`), so the
lower feature never imports the higher one.
"""

from collections.abc import Callable

_PROVIDERS: dict[str, Callable] = {}


def provides(name: str):
    """Decorator: `fn` computes the figure `name`."""

    def register(fn: Callable) -> Callable:
        _PROVIDERS[name] = fn
        return fn

    return register


def figure(name: str, *args, **kwargs):
    """The figure `name`, computed by whoever provides it (a LookupError when nobody does:
    the providing feature is not installed, which is a wiring mistake)."""
    try:
        provider = _PROVIDERS[name]
    except KeyError:
        raise LookupError(f"no feature provides the figure {name!r}") from None
    return provider(*args, **kwargs)

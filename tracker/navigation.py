"""The navigation every signed-in page starts with, rendered once per role and language.

It is the same for every user of a role who reads a language, and it cost more to render
(a dozen links, each built and translated, each behind a role check) than most pages' own
content. Each worker keeps one copy per role, language and mount point of the app; what is
the user's own (their name, the sign-out form's CSRF token) stays in `base.html`.
"""

from functools import partial

from flask import current_app, render_template, request
from flask_babel import get_locale
from markupsafe import Markup


def role_may_open(role: str, endpoint: str) -> bool:
    """Whether `role` may open `endpoint`, as its route declares (`roles_required`)."""
    view = current_app.view_functions.get(endpoint)
    if view is None:
        raise LookupError(f"no route {endpoint!r}")
    roles = getattr(view, "allowed_roles", None)
    return roles is None or role in roles


def navigation(role: str) -> Markup:
    """The links of the `role`'s navigation, in the reader's language."""
    kept = current_app.extensions.setdefault("tracker.navigation", {})
    key = (role, str(get_locale()), request.script_root)
    links = kept.get(key)
    if links is None:
        # render_template escapes what it puts in: the result is HTML.
        may = partial(role_may_open, role)
        links = kept[key] = Markup(render_template("_nav.html", may=may))  # noqa: S704
    return links

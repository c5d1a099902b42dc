"""The frame of every page (its head, the header with the navigation, the language switch,
the sign-out dialog), rendered once per role and language.

It is the same for every user of a role who reads a language, and it cost more to render
(a dozen links, each built and translated, each behind a role check; the static files'
addresses; some twenty words) than most pages' own content. Each worker keeps one copy per
part, role, language and mount point of the app, with slots for what is the reader's own:
their name and id, this response's CSRF token, the address the language switch comes back
to. Those are filled, escaped, in each response.
"""

from functools import partial

from flask import current_app, render_template, request
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup, escape

from tracker.csrf import masked_csrf_token

SLOT = "\x1f"  # a character no template, word or escaped value can hold
SLOTS = ("user_id", "user_name", "csrf", "next_path")
PARTS = {"head": "_frame_head.html", "top": "_frame_top.html", "bottom": "_frame_bottom.html"}


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


def _pieces(part: str, role: str | None) -> list[str]:
    """The part as rendered for `role` (None: nobody signed in), cut at its slots: even
    items are HTML, odd ones a slot's name."""
    kept = current_app.extensions.setdefault("tracker.frame", {})
    key = (part, role, str(get_locale()), request.script_root)
    pieces = kept.get(key)
    if pieces is None:
        slots = {name: Markup(f"{SLOT}{name}{SLOT}") for name in SLOTS}  # noqa: S704
        may = partial(role_may_open, role) if role else None
        html = render_template(PARTS[part], signed_in=role is not None, role=role, may=may, **slots)
        pieces = kept[key] = str(html).split(SLOT)
        if len(pieces) % 2 == 0 or not set(pieces[1::2]) <= set(SLOTS):
            raise ValueError(f"{PARTS[part]}: a slot left open or unknown")
    return pieces


def frame(part: str) -> Markup:
    """One part of the page's frame for this reader and response."""
    signed_in = current_user.is_authenticated
    pieces = _pieces(part, current_user.role if signed_in else None)
    if len(pieces) == 1:
        return Markup(pieces[0])  # noqa: S704  (rendered by Jinja, escaped there)
    values = {}
    out = []
    for number, piece in enumerate(pieces):
        if number % 2 == 0:
            out.append(piece)
            continue
        value = values.get(piece)
        if value is None:
            value = values[piece] = str(escape(_slot_value(piece)))
        out.append(value)
    return Markup("".join(out))  # noqa: S704  (every value escaped above)


def _slot_value(name: str) -> str:
    if name == "user_id":
        return str(current_user.id)
    if name == "user_name":
        return current_user.display_name
    if name == "csrf":
        return masked_csrf_token()
    return request.full_path if request.query_string else request.path

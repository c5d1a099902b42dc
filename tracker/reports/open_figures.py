"""A donation's open figures: a public page (and its data as CSV and JSON) a donor links to
from its own site, when the programme opens it (tracker.donations.donors).

Aggregates only — tablets, schools, regions, the share handed over and the share seen at
the last count — never a name of anyone, nor of a school. No sign-in, no session, no form:
the same bytes for every visitor of a language, so any cache may keep them (an ETag and a
max-age); the page is small (its own little template, no navigation, no script).
"""

import csv
import hashlib
import io
import json
from dataclasses import dataclass

from flask import Blueprint, Response, render_template, request
from flask_babel import force_locale

from tracker.donations import donors
from tracker.errors import NotFound
from tracker.i18n import LOCALES
from tracker.reports.donor_view import DonorView, last_count_of, regions_of, states_of
from tracker.spreadsheets.writer import is_formula_like
from tracker.timezone import local_today

bp = Blueprint("open", __name__, url_prefix="/open")
MAX_AGE = 3600  # seconds a cache may keep a page before asking again (an hour)


@dataclass
class OpenFigures:
    reference: str
    donor: str
    title: str
    promised: int
    registered: int
    handed_over: int
    on_loan: int
    schools: int
    regions: list  # (region code, region as read, schools, tablets handed over)
    counted: int  # tablets the last count expected
    seen: int  # of which it found

    @property
    def handed_over_percent(self) -> float:
        return round(100 * self.handed_over / self.registered, 1) if self.registered else 0.0

    @property
    def seen_percent(self) -> float | None:
        return round(100 * self.seen / self.counted, 1) if self.counted else None

    def as_json(self) -> dict:
        return {
            "donation": self.reference,
            "donor": self.donor,
            "title": self.title,
            "tablets_promised": self.promised,
            "tablets_registered": self.registered,
            "tablets_handed_over": self.handed_over,
            "share_handed_over_percent": self.handed_over_percent,
            "tablets_on_loan": self.on_loan,
            "schools_reached": self.schools,
            "regions_reached": len(self.regions),
            "share_seen_at_last_count_percent": self.seen_percent,
            "regions": [
                {"region": code, "schools": schools, "tablets_handed_over": tablets}
                for code, _label, schools, tablets in self.regions
            ],
            "as_of": local_today().isoformat(),
        }


def open_figures(key: str) -> OpenFigures:
    """The figures of the donation `key` opens (four statements)."""
    donation = donors.open_donation(key)
    view = DonorView(donation=donation, states=states_of(donation.id))
    regions = regions_of(donation.id)
    last = last_count_of(donation.id)
    return OpenFigures(
        reference=donation.reference,
        donor=donation.donor.name,
        title=donation.title,
        promised=donation.quantity_promised,
        registered=view.registered,
        handed_over=view.delivered,
        on_loan=view.on_loan,
        schools=sum(row.schools for row in regions),
        regions=[(row.region, row.label, row.schools, row.tablets) for row in regions],
        counted=last.expected if last else 0,
        seen=last.found if last else 0,
    )


def _language() -> str:
    """The page's language: asked in its address (?lang=ar), else the browser's."""
    chosen = request.args.get("lang", "")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or "fr"


def _cached(body: bytes, mimetype: str, vary: bool) -> Response:
    """A response any cache may keep for an hour, answered 304 when it has not changed."""
    response = Response(body, mimetype=mimetype)
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    if vary:
        response.vary.add("Accept-Language")
    return response.make_conditional(request)


@bp.errorhandler(NotFound)
def closed(error: NotFound):
    """A closed page (or one never opened): a plain page no cache keeps, the same for
    everyone (no sign-in's name or token, as the site's own error page would carry)."""
    with force_locale(_language()):
        html = render_template("open/closed.html", message=str(error), language=_language())
    response = Response(html, status=404, mimetype="text/html")
    response.cache_control.no_store = True
    return response


@bp.route("/<key>")
def page(key: str):
    language = _language()
    with force_locale(language):
        figures = open_figures(key)  # (its regions named in the page's language)
        html = render_template(
            "open/donation.html",
            f=figures,
            language=language,
            direction="rtl" if language == "ar" else "ltr",
            key=key,
            today=local_today(),
        )
    return _cached(html.encode(), "text/html", vary=request.args.get("lang") not in LOCALES)


@bp.route("/<key>.json")
def data_json(key: str):
    body = json.dumps(open_figures(key).as_json(), ensure_ascii=False, indent=1)
    return _cached(body.encode(), "application/json", vary=False)


@bp.route("/<key>.csv")
def data_csv(key: str):
    """One row per region, then the whole donation's row (its region empty)."""
    figures = open_figures(key)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["donation", "region", "schools_reached", "tablets_handed_over"])
    for code, _label, schools, tablets in figures.regions:
        # A spreadsheet opening the file runs no region's name as a formula.
        writer.writerow(
            [figures.reference, f"'{code}" if is_formula_like(code) else code, schools, tablets]
        )
    writer.writerow([figures.reference, "", figures.schools, figures.handed_over])
    return _cached(out.getvalue().encode(), "text/csv", vary=False)

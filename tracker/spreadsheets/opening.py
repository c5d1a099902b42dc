"""An opening balance: where each tablet of a device list already is, and since when.

A programme that moves in from another tool or a spreadsheet says, for each tablet, its
place (a school by code or name), its state in that tool's words, the day it was handed
over and who received it. This module reads those cells; `devices.services.register_devices`
records them (one event *recorded at opening*, no invented plan or delivery).
"""

from datetime import date

from tracker.i18n import gettext as _
from tracker.schools.services import SchoolFinder
from tracker.spreadsheets.headers import normalise
from tracker.timezone import local_today

# A state as other tools and people write it -> what the tracker records. "on_loan" and
# "in_repair" are kept as the row's state in its event: the tablet is recorded at its
# school (a loan names its borrower and is signed at the school's desk) or faulty with its
# repair case.
STATE_WORDS = {
    "in_stock": (
        "in stock", "stock", "en stock", "available", "ready to deploy", "ready", "pending",
        "disponible", "en attente", "في المخزن", "متوفر", "متوفرة",
    ),
    "delivered": (
        "delivered", "deployed", "in custody", "in_custody", "at school", "livré", "livrée",
        "remis", "remise", "affecté", "affectée", "déployé", "en service", "à l'école", "ok",
        "مسلم", "مسلمة", "سلمت", "بالمؤسسة",
    ),
    "on_loan": (
        "on loan", "lent", "checked out", "checked_out", "prêté", "prêtée", "en prêt", "معار",
        "معارة",
    ),
    "faulty": (
        "faulty", "broken", "damaged", "defective", "en panne", "défectueux", "défectueuse",
        "cassé", "cassée", "hs", "hors service", "معطل", "معطلة",
    ),
    "in_repair": (
        "in repair", "out for repair", "out for diagnostics", "under repair",
        "en réparation", "في الإصلاح", "قيد الإصلاح",
    ),
    "lost": (
        "lost", "stolen", "lost/stolen", "lost stolen", "destroyed", "perdu", "perdue", "volé",
        "volée", "détruit", "مفقود", "مفقودة", "مسروق", "مسروقة",
    ),
    "archived": ("archived", "retired", "archivé", "réformé", "مؤرشف"),
}  # fmt: skip
STATES = {normalise(word): code for code, words in STATE_WORDS.items() for word in words}
# What each state records: the tablet's status, and whether it needs its school.
RECORDED = {
    "in_stock": ("in_stock", False),
    "delivered": ("delivered", True),
    "on_loan": ("delivered", True),
    "faulty": ("faulty", True),
    "in_repair": ("faulty", True),
    "lost": ("lost", False),
}
CLOSEST_LOOKED_UP = 100  # places not matched for which the nearest school is looked for


class Places:
    """The places of one file: each matched once, counted by school, the unmatched kept
    with their rows and the nearest school."""

    def __init__(self):
        self.finder = SchoolFinder()
        self.placed: dict[int, int] = {}
        self.unmatched: dict[str, list[int]] = {}
        self.on_loan = 0
        self.today = local_today()

    def read(self, row_number: int, state_raw, place_raw, since: date | None, problem) -> dict:
        """The row's place, state and day as register_devices takes them; each problem is
        told with `problem(key, raw, reason)`."""
        values: dict = {}
        state = None
        if state_raw not in (None, ""):
            state = STATES.get(normalise(state_raw))
            if state is None:
                problem(
                    "state",
                    state_raw,
                    _(
                        "not a state: write in stock, delivered, on loan, faulty, in repair "
                        "or lost (Snipe-IT's Ready to Deploy, Deployed, Broken… are read too)"
                    ),
                )
                return values
            if state == "archived":
                problem(
                    "state",
                    state_raw,
                    _("the tracker keeps no archived tablets: write lost, or leave the row out"),
                )
                return values
        place = " ".join(str(place_raw).split()) if place_raw not in (None, "") else ""
        school_id, shared = self.finder.find(place) if place else (None, False)
        if state is None:
            state = "in_stock" if not place else "delivered"
        status, needs_school = RECORDED[state]
        if shared:
            problem("place", place, _("several schools have this name: write the school's code"))
            return values
        if place and school_id is None and state != "in_stock":
            self.unmatched.setdefault(place, []).append(row_number)
            reason = _("no school has this code or name")
            if len(self.unmatched) <= CLOSEST_LOOKED_UP and (nearest := self.finder.closest(place)):
                reason = _(
                    "no school has this code or name; the closest is %(school)s",
                    school=self.finder.label(nearest),
                )
            problem("place", place, reason)
            return values
        if needs_school and school_id is None:
            problem(
                "state",
                state_raw,
                _("a tablet at a school needs its school: write its code or name"),
            )
            return values
        if since is not None and since > self.today:
            problem("since", since.isoformat(), _("after today"))
            return values
        values["status"] = status
        values["school_id"] = school_id if status != "in_stock" else None
        if state != status:
            values["state"] = state
        if since is not None:
            values["since"] = since
        return values

    def count(self, values: dict) -> None:
        """A row that will be written: its school's figure."""
        if values.get("school_id") is not None:
            self.placed[values["school_id"]] = self.placed.get(values["school_id"], 0) + 1
        if values.get("state") == "on_loan":
            self.on_loan += 1

    def summary(self) -> dict:
        """What the preview shows: schools by tablets placed, the places not matched."""
        placed = sorted(self.placed.items(), key=lambda item: (-item[1], item[0]))
        return {
            "schools": len(placed),
            "tablets": sum(self.placed.values()),
            "placed": [[*self.finder.names[school_id], count] for school_id, count in placed[:500]],
            "unmatched": [
                {
                    "place": place[:120],
                    "rows": rows[:20],
                    "count": len(rows),
                    "closest": (
                        self.finder.label(nearest)
                        if n < CLOSEST_LOOKED_UP and (nearest := self.finder.closest(place))
                        else ""
                    ),
                }
                for n, (place, rows) in enumerate(list(self.unmatched.items())[:500])
            ],
            "on_loan": self.on_loan,
        }

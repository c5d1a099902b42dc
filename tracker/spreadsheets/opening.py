"""An opening balance: where each tablet of a device list already is, and since when.

A programme that moves in from another tool or a spreadsheet says, for each tablet, its
place (a school by code or name), its state in that tool's words, the day it was handed
over and who received it. This module reads those cells; `devices.services.register_devices`
records them (one event *recorded at opening*, no invented plan or delivery).
"""

import time
from datetime import date

from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.schools.reach import WHOLE, Reach
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
# As they are most often written, looked up before folding.
STATES.update(
    {
        spelled: code
        for code, words in STATE_WORDS.items()
        for word in words
        for spelled in (word, word.capitalize(), word.title(), word.upper())
    }
)
# What each state records: the tablet's status, and whether it needs its school.
RECORDED = {
    "in_stock": ("in_stock", False),
    "delivered": ("delivered", True),
    "on_loan": ("delivered", True),
    "faulty": ("faulty", True),
    "in_repair": ("faulty", True),
    "lost": ("lost", False),
}
# The states an opening balance counts, in the reader's words.
OPENING_LABELS = {
    "in_stock": _l("In stock"),
    "delivered": _l("Delivered"),
    "on_loan": _l("On loan"),
    "faulty": _l("Faulty"),
    "in_repair": _l("In repair"),
    "lost": _l("Lost"),
}
CLOSEST_LOOKED_UP = 100  # places not matched for which the nearest school is looked for
CLOSEST_SECONDS = 3.0  # and for at most this long in all (a name is compared to every one)
FIRST_DAY = date(2000, 1, 1)  # no tablet of a programme was handed over before


class Places:
    """The places of one file: each matched once, counted by school, the unmatched kept
    with their rows and the nearest school."""

    def __init__(self, chosen: dict[str, int] | None = None, reach: Reach = WHOLE):
        self.finder = SchoolFinder(reach)  # another office's school is as unknown
        # Places the user said are a school (the closest one offered): {place: school id}.
        self.chosen = {place: school_id for place, school_id in (chosen or {}).items()}
        self.placed: dict[int, int] = {}
        self.unmatched: dict[str, list[int]] = {}
        self.on_loan = 0
        self.today = local_today()
        self.resolved: dict[tuple, tuple[dict, tuple | None]] = {}
        self.states: dict[str, int] = {}
        self.stores: dict[str, int] = {}  # places that are no school, of tablets in stock
        self.closest_left = CLOSEST_SECONDS

    def resolve(self, state_raw, place_raw) -> tuple[dict, tuple | None]:
        """What a (state, place) pair records, or the problem with it as (key, raw, reason,
        place not matched); the same pair is worked out once per file."""
        key = (state_raw, place_raw)
        if key not in self.resolved:
            self.resolved[key] = self._resolve(state_raw, place_raw)
        return self.resolved[key]

    def _resolve(self, state_raw, place_raw) -> tuple[dict, tuple | None]:
        state = None
        if state_raw not in (None, ""):
            state = STATES.get(state_raw) or STATES.get(normalise(state_raw))
            if state is None:
                return {}, (
                    "state",
                    state_raw,
                    _(
                        "not a state: write in stock, delivered, on loan, faulty, in repair "
                        "or lost (Snipe-IT's Ready to Deploy, Deployed, Broken… are read too)"
                    ),
                    "",
                )
            if state == "archived":
                return {}, (
                    "state",
                    state_raw,
                    _("the tracker keeps no archived tablets: write lost, or leave the row out"),
                    "",
                )
        place = " ".join(str(place_raw).split()) if place_raw not in (None, "") else ""
        school_id, shared = self.finder.find(place) if place else (None, False)
        if school_id is None and not shared and place in self.chosen:
            school_id = self.chosen[place] if self.chosen[place] in self.finder.schools else None
        if state is None:
            state = "in_stock" if not place else "delivered"
        status, needs_school = RECORDED[state]
        if shared:
            return {}, (
                "place",
                place,
                _(
                    "several schools have this name (%(codes)s): write the school's code",
                    codes=", ".join(self.finder.sharing(place)),
                ),
                "",
            )
        if place and school_id is None and state != "in_stock":
            return {}, ("place", place, None, place)
        if state == "in_stock" and school_id is not None:
            return {}, (
                "state",
                state_raw,
                _(
                    "in stock, but the place is a school: write the state it is in there "
                    "(delivered, faulty…), or leave the school out"
                ),
                "",
            )
        if needs_school and school_id is None:
            return {}, (
                "state",
                state_raw,
                _("a tablet at a school needs its school: write its code or name"),
                "",
            )
        values = {"status": status, "school_id": school_id}
        if state != status:
            values["state"] = state
        if place and status == "in_stock":
            values["store"] = place  # a warehouse: said in the preview, not kept
        return values, None

    def read(self, row_number: int, state_raw, place_raw, since: date | None, problem) -> dict:
        """The row's place, state and day as register_devices takes them; each problem is
        told with `problem(key, raw, reason)`."""
        values, refused = self.resolve(state_raw, place_raw)
        if refused is not None:
            key, raw, reason, unmatched = refused
            if unmatched:
                rows = self.unmatched.setdefault(unmatched, [])
                rows.append(row_number)
                reason = _("no school has this code or name")
                if len(self.unmatched) <= CLOSEST_LOOKED_UP and (
                    nearest := self.closest(unmatched)
                ):
                    reason = _(
                        "no school has this code or name; the closest is %(school)s",
                        school=self.finder.label(nearest),
                    )
            problem(key, raw, reason)
            return {}
        if since is not None and since > self.today:
            problem("since", since.isoformat(), _("after today"))
            return {}
        if since is not None and since < FIRST_DAY:
            problem("since", since.isoformat(), _("before 2000: not the day it was handed over"))
            return {}
        values = dict(values)
        if since is not None:
            values["since"] = since
        return values

    def count(self, values: dict) -> None:
        """A row that will be written: its school's figure, its state's."""
        state = values.get("state") or values.get("status", "in_stock")
        self.states[state] = self.states.get(state, 0) + 1
        if values.get("school_id") is not None and values.get("status") != "lost":
            self.placed[values["school_id"]] = self.placed.get(values["school_id"], 0) + 1
        if state == "on_loan":
            self.on_loan += 1
        if store := values.get("store"):
            self.stores[store] = self.stores.get(store, 0) + 1

    def _unmatched(self, n: int, place: str, rows: list[int]) -> dict:
        """A place no school matched, as the preview lists it: its rows, and the closest
        school (its code and both its names, so each reader reads it in their language)."""
        nearest = self.closest(place) if n < CLOSEST_LOOKED_UP else None
        code, name_fr, name_ar = self.finder.schools[nearest] if nearest else ("", "", "")
        return {
            "place": place[:120],
            "rows": rows[:20],
            "count": len(rows),
            "closest": self.finder.label(nearest) if nearest else "",
            "closest_code": code,
            "closest_names": [name_fr, name_ar or ""],
        }

    def closest(self, place: str) -> int | None:
        """The nearest school's id, while the time given to looking lasts (each look
        compares the place with every school's names)."""
        if self.closest_left <= 0:
            return None
        start = time.perf_counter()
        try:
            return self.finder.closest(place)
        finally:
            self.closest_left -= time.perf_counter() - start

    def summary(self) -> dict:
        """What the preview shows: schools by tablets placed, the places not matched."""
        placed = sorted(self.placed.items(), key=lambda item: (-item[1], item[0]))
        return {
            "schools": len(placed),
            "tablets": sum(self.placed.values()),
            "placed": [
                [*self.finder.schools[school_id], count] for school_id, count in placed[:500]
            ],
            "unmatched": [
                self._unmatched(n, place, rows)
                for n, (place, rows) in enumerate(list(self.unmatched.items())[:500])
            ],
            "on_loan": self.on_loan,
            "states": self.states,
            "stores": sorted(self.stores.items(), key=lambda item: -item[1])[:20],
        }

"""Filled field manifests read back: rows grouped per delivery, each checked as a whole by
the hand-over's own check, then confirmed by `handover.confirm_handover` (all or nothing)."""

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import format_date

from tracker.auth.models import User
from tracker.deliveries.handover import ON_BOARD, confirm_handover, handover_problems
from tracker.deliveries.models import HANDED_OVER, Delivery
from tracker.deliveries.scans import why_not_here
from tracker.deliveries.services import delivery_for
from tracker.deliveries.states import DELIVERY_STATES
from tracker.devices.models import Device
from tracker.errors import NotFound
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.spreadsheets.importers import Problem, RowImporter, as_text, cell
from tracker.spreadsheets.manifest import MANIFEST_COLUMNS, NO, REASON_WORDS, YES, parse_reference
from tracker.timezone import at_local, local, local_today, read_day


def _reason(value) -> str | None:
    word = as_text(value).strip().casefold()
    for reason, words in REASON_WORDS.items():
        if word in words:
            return reason
    return None


def _moment(value) -> datetime | None:
    """The hand-over time from a date cell: noon that day where the programme is. A date
    typed as text is read as the reader's language writes it (05/12/2026 in French and
    Arabic, 12/05/2026 in English, as LibreOffice saves a CSV), or as 2026-12-05; a text
    that is no date raises ValueError."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        text = " ".join(as_text(value).split())
        if not text:
            return None
        day = read_day(text)
    return at_local(day, 12)


def _recorded_as(item, answer: str, reason: str | None) -> bool:
    """Whether a row says what the hand-over already recorded of its tablet (the same
    filled manifest sent again)."""
    if item is None:
        return False
    if answer in YES:
        return item.status == "delivered"
    return answer in NO and reason is not None and item.status == reason


class _Row:
    """A row number where a problem is told (`_problem` reads `row.number`)."""

    def __init__(self, number: int):
        self.number = number


class ManifestImporter(RowImporter):
    """Rows of filled manifests, grouped per delivery; written once every row was read."""

    kind = "manifest"
    columns = MANIFEST_COLUMNS

    def __init__(self, actor: User | None):
        super().__init__()
        self.actor = actor
        self.deliveries: dict[int, dict] = {}
        self.header = None

    def _delivery(self, delivery_id: int) -> Delivery | None:
        """The delivery, if the importer may see it (another office's, or another agent's,
        is as if there were none: `delivery_for`)."""
        if self.actor is None:
            return db.session.get(Delivery, delivery_id)
        try:
            return delivery_for(self.actor, delivery_id, lines=False)
        except NotFound:
            return None

    def _problem(self, report, row, key, value, reason):
        report.add_problem(
            Problem(
                row.number,
                self.header.headers.get(key, ""),
                as_text(value),
                reason,
                self.header.positions.get(key),
            )
        )

    def process(self, rows, header, report, write):
        self.header = header
        for row in rows:
            values = {column.key: cell(row, header, column.key) for column in MANIFEST_COLUMNS}
            before = report.problem_count
            delivery_id = parse_reference(values["delivery"])
            delivery = self._delivery(delivery_id) if delivery_id else None
            if delivery is None:
                self._problem(report, row, "delivery", values["delivery"], _("no such delivery"))
                report.rejected_rows += 1
                continue
            answer = as_text(values["received"]).strip().casefold()
            group = self.deliveries.setdefault(
                delivery.id,
                {
                    "first_row": row.number,
                    "received": set(),
                    "reasons": {},
                    "rows": {},
                    "name": "",
                    "role": "",
                    "when": None,
                    "filled": False,
                    "remarks": [],
                },
            )
            if answer:
                group["filled"] = True
            for key in ("recipient_name", "recipient_role"):
                text = as_text(values[key]).strip()
                slot = "name" if key == "recipient_name" else "role"
                if text and not group[slot]:
                    group[slot] = text
            try:
                when = _moment(values["received_on"])
            except ValueError:
                self._problem(
                    report,
                    row,
                    "received_on",
                    values["received_on"],
                    _(
                        "not a date: write the day as %(example)s",
                        example=format_date(local_today(), "short"),
                    ),
                )
            else:
                if when is not None and group["when"] is None:
                    group["when"], group["when_row"] = when, row.number
            if as_text(values["remark"]).strip():
                group["remarks"].append(
                    f"{as_text(values['asset_tag'])}: {as_text(values['remark'])}"
                )
            tag = as_text(values["asset_tag"]).strip()
            device = db.session.scalar(sa.select(Device).where(Device.asset_tag == tag))
            if device is None:
                self._problem(report, row, "asset_tag", tag, _("no tablet has this asset tag"))
            else:
                item = next((i for i in delivery.items if i.device_id == device.id), None)
                if (
                    answer
                    and delivery.status in HANDED_OVER
                    and _recorded_as(item, answer, _reason(values["reason"]))
                ):
                    report.unchanged += 1  # the same file again: it says what is recorded
                elif answer and delivery.status in HANDED_OVER:
                    self._problem(
                        report,
                        row,
                        "delivery",
                        values["delivery"],
                        _(
                            "%(ref)s was already handed over (%(how)s)",
                            ref=delivery.reference,
                            how=_("scanned")
                            if delivery.handover_via == "screen"
                            else _("imported"),
                        ),
                    )
                elif answer and delivery.status not in DELIVERY_STATES["hand_over"]:
                    self._problem(
                        report,
                        row,
                        "delivery",
                        values["delivery"],
                        _("%(ref)s has not been dispatched", ref=delivery.reference),
                    )
                elif item is None or (answer and item.status not in ON_BOARD):
                    self._problem(report, row, "asset_tag", tag, why_not_here(delivery, device))
                elif answer in YES:
                    group["received"].add(device.id)
                elif answer in NO:
                    reason = _reason(values["reason"])
                    if reason is None:
                        self._problem(
                            report,
                            row,
                            "reason",
                            values["reason"],
                            _("say missing, damaged or refused"),
                        )
                    else:
                        group["reasons"][device.id] = reason
                elif answer:
                    self._problem(report, row, "received", values["received"], _("write yes or no"))
                if device is not None:
                    group["rows"][device.id] = row.number
            if report.problem_count > before:
                report.rejected_rows += 1

    def _check_day(self, report, delivery, group) -> None:
        """A reception day can be neither before the box left nor after today."""
        when = group["when"]
        if when is None:
            return
        day, row = local(when).date(), group.get("when_row", group["first_row"])
        left = local(delivery.dispatched_at).date() if delivery.dispatched_at else None
        if left is not None and day < left:
            reason = _(
                "%(ref)s received on %(day)s, before it left on %(left)s",
                ref=delivery.reference,
                day=format_date(day, "short"),
                left=format_date(left, "short"),
            )
        elif day > local_today():
            reason = _(
                "%(ref)s received on %(day)s, after today",
                ref=delivery.reference,
                day=format_date(day, "short"),
            )
        else:
            return
        self._problem(report, _Row(row), "received_on", format_date(day, "short"), reason)
        report.rejected_rows += 1

    def finish(self, report, write):
        """Check each filled delivery as a whole, then confirm it (when writing)."""
        for delivery_id, group in self.deliveries.items():
            if not group["filled"]:
                report.unchanged += len(group["rows"])
                continue
            delivery = db.session.get(Delivery, delivery_id)
            if delivery.status not in DELIVERY_STATES["hand_over"]:
                group["filled"] = False  # told row by row: unchanged, or a conflict
                continue
            first = group["first_row"]
            self._check_day(report, delivery, group)
            on_board = {i.device_id: i for i in delivery.items if i.status in ON_BOARD}
            problems = handover_problems(
                list(on_board),
                tag_of=lambda device_id, on_board=on_board: on_board[device_id].device.asset_tag,
                received=group["received"],
                reasons=group["reasons"],
                name=group["name"],
                role=group["role"],
                signed=True,  # on paper
            )
            for problem in problems:
                key = problem.field if problem.field.startswith("recipient") else "received"
                report.add_problem(
                    Problem(
                        group["rows"].get(problem.device_id, first),
                        self.header.headers.get(key, ""),
                        "",
                        _("%(ref)s: %(problem)s", ref=delivery.reference, problem=problem.message),
                        self.header.positions.get(key),
                    )
                )
                report.rejected_rows += 1
            report.updated += len(group["received"]) + len(group["reasons"])
        if not (write and report.ok):
            return
        for delivery_id, group in self.deliveries.items():
            if not group["filled"]:
                continue
            confirm_handover(
                delivery_id,
                actor=self.actor,
                recipient_name=group["name"],
                recipient_role=group["role"],
                received=group["received"],
                reasons=group["reasons"],
                notes="\n".join(group["remarks"]),
                via="manifest",
                handed_over_at=group["when"],
            )

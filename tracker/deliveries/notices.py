"""What the school and the office are told of a delivery, in their language.

Queued in the transaction of the dispatch or the hand-over (tracker/messages), sent by
the workers. The school hears by SMS on its contact's phone and by e-mail when it has an
address; the coordinator who planned the delivery gets the hand-over with its proof.
"""

from flask_babel import force_locale, format_date

from tracker.deliveries.documents import receipt
from tracker.deliveries.models import Delivery
from tracker.deliveries.queries import get_delivery
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.i18n import ngettext
from tracker.messages.services import attachment_maker, message_kind, queue_message
from tracker.schools import staff
from tracker.timezone import format_moment

# To the school's contact, and to each of its staff with an account (who may turn it off).
DISPATCHED = message_kind(
    "delivery_dispatched", _l("A delivery is on its way to my school"), "school.home"
)
# To the school, and to the coordinator who planned the delivery.
HANDED_OVER = message_kind(
    "handover_confirmed",
    _l("A delivery I planned is handed over, with its proof of delivery"),
    "plans.plan_deliveries",
)
SCHOOL_LANGUAGES = ("fr", "ar")


@attachment_maker("proof_of_delivery")
def proof_of_delivery(delivery_id: int, _language: str) -> tuple[str, str, bytes]:
    delivery = get_delivery(delivery_id, whole=True)
    return f"{delivery.reference}-recu.pdf", "application/pdf", receipt(delivery)


def _school_language(delivery: Delivery) -> str:
    language = delivery.school.contact_language
    return language if language in SCHOOL_LANGUAGES else "fr"


def _school_name(delivery: Delivery, language: str) -> str:
    school = delivery.school
    return (school.name_ar or school.name_fr) if language == "ar" else school.name_fr


def _tell_school(delivery: Delivery, kind: str, subject, text, attachment: str = "") -> None:
    school = delivery.school
    language = _school_language(delivery)
    with force_locale(language):
        words, heading = text(language), subject()
        attached = _("The proof of delivery is attached.")
        letter = f"{words}\n\n{attached}" if attachment else words
    queue_message(
        kind, channel="sms", recipient=school.contact_phone, language=language, body=words
    )
    queue_message(
        kind,
        channel="email",
        recipient=school.contact_email,
        language=language,
        subject=heading,
        body=letter,
        attachment=attachment,
        attachment_ref=delivery.id if attachment else None,
    )


def delivery_dispatched(delivery: Delivery, tablets: int) -> None:
    """The school's contact: the day, the agent, the number of tablets."""
    agent = delivery.assigned_to.display_name if delivery.assigned_to else ""

    def text(language: str) -> str:
        day = format_date(delivery.planned_on, "full") if delivery.planned_on else _("soon")
        return ngettext(
            "%(school)s: %(num)s tablet of delivery %(ref)s is on its way, for %(day)s, "
            "with %(agent)s.",
            "%(school)s: %(num)s tablets of delivery %(ref)s are on their way, for %(day)s, "
            "with %(agent)s.",
            tablets,
            school=_school_name(delivery, language),
            ref=delivery.reference,
            day=day,
            agent=agent or _("our field agent"),
        )

    def subject() -> str:
        return _("Delivery %(ref)s is on its way", ref=delivery.reference)

    _tell_school(delivery, DISPATCHED, subject, text)
    for user in staff.active_staff(delivery.school_id):
        language = user.locale if user.locale in ("fr", "ar", "en") else _school_language(delivery)
        with force_locale(language):
            words = "\n\n".join(
                (
                    text(language),
                    _("Confirm what you receive on your school's page, from your own account."),
                )
            )
            queue_message(
                DISPATCHED,
                channel="email",
                recipient=user.email,
                user=user,
                language=language,
                subject=subject(),
                body=words,
            )


def handover_confirmed(delivery: Delivery, delivered: int) -> None:
    """The school and the coordinator who planned it, with the proof of delivery."""

    def text(language: str) -> str:
        return ngettext(
            "%(school)s: %(num)s tablet of delivery %(ref)s was handed over to %(name)s on "
            "%(when)s.",
            "%(school)s: %(num)s tablets of delivery %(ref)s were handed over to %(name)s on "
            "%(when)s.",
            delivered,
            school=_school_name(delivery, language),
            ref=delivery.reference,
            name=delivery.recipient_name,
            when=format_moment(delivery.delivered_at),
        )

    def subject() -> str:
        return _("Delivery %(ref)s is handed over", ref=delivery.reference)

    _tell_school(delivery, HANDED_OVER, subject, text, attachment="proof_of_delivery")
    planner = delivery.created_by
    if planner is not None and planner.active:
        language = planner.locale or "fr"
        with force_locale(language):
            queue_message(
                HANDED_OVER,
                channel="email",
                recipient=planner.email,
                user=planner,
                language=language,
                subject=subject(),
                body="\n\n".join((text(language), _("The proof of delivery is attached."))),
                attachment="proof_of_delivery",
                attachment_ref=delivery.id,
            )

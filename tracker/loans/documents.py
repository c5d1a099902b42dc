"""The loan agreement, as a PDF in French and Arabic: who borrows which tablet until when,
the terms, and the signature (drawn on the screen, or to sign on paper)."""

import io

from tracker.deliveries.documents import SCHOOL_LANGUAGES, both, in_language
from tracker.i18n import lazy_gettext as _l
from tracker.loans.models import Loan
from tracker.loans.words import CONDITION_LABELS, KIND_LABELS
from tracker.pdf import NEXT_LINE, TrackerPdf
from tracker.timezone import format_moment

TITLE = _l("Tablet loan agreement")
TERMS = (
    _l("The tablet stays the property of the school; it is lent for learning at home."),
    _l("The borrower looks after it, keeps it charged and brings it to school when asked."),
    _l("It is brought back, with its accessories, on the day written above at the latest."),
    _l("A tablet lost, stolen or broken is reported to the school the same week."),
    _l(
        "The school keeps the borrower's name, class and guardian only for this loan, and "
        "erases them after the retention period (law 09-08)."
    ),
)


class AgreementPdf(TrackerPdf):
    def __init__(self, loan: Loan):
        super().__init__()
        self.loan = loan
        self.set_title(f"{both(TITLE)} {loan.device.asset_tag}")

    def header(self):
        self.write_cell(0, 8, in_language(TITLE, "fr"), "B", 15, **NEXT_LINE)
        self.write_cell(0, 8, in_language(TITLE, "ar"), "B", 15, align="R", **NEXT_LINE)
        self.ln(2)

    def footer(self):
        self.set_y(-12)
        self.set_text_color(110)
        version = f"{self.loan.agreement_version} · {self.loan.device.asset_tag}"
        self.write_cell(0, 5, f"{version} · {self.page_no()}/{{nb}}", "", 8)
        self.set_text_color(0)


def agreement(loan: Loan) -> bytes:
    """The agreement of one loan, to sign on paper or as a record of the screen's signature."""
    pdf = AgreementPdf(loan)
    pdf.add_page()
    school, borrower, device = loan.school, loan.borrower, loan.device
    pdf.write_lines(0, f"{school.code} · {school.name_fr}", "B", 12)
    if school.name_ar:
        pdf.write_lines(0, school.name_ar, "B", 12, align="R")
    pdf.ln(2)
    kind = both(KIND_LABELS.get(borrower.kind, borrower.kind))
    facts = [
        (_l("Borrower"), f"{borrower.name} ({kind})" if borrower.name else kind),
        (_l("Borrower's code"), "" if borrower.erased_at else borrower.code),
        (_l("Class"), borrower.class_name),
        (
            _l("Guardian"),
            " · ".join(p for p in (borrower.guardian_name, borrower.guardian_phone) if p),
        ),
        (_l("Tablet"), f"{device.asset_tag} · {device.serial}"),
        (_l("Model"), device.model),
        (_l("Condition"), both(CONDITION_LABELS.get(loan.condition_out, loan.condition_out))),
        (_l("Accessories"), loan.accessories_out),
        (_l("Lent on"), format_moment(loan.lent_at)),
        (_l("Due back on"), loan.due_on.strftime("%d/%m/%Y")),
        (_l("Agreement"), loan.agreement_version),
    ]
    pdf.facts([(both(label), value) for label, value in facts])
    pdf.ln(3)
    for language in SCHOOL_LANGUAGES:
        align = "R" if language == "ar" else "L"  # each language its own way
        for number, term in enumerate(TERMS, start=1):
            pdf.write_lines(0, f"{number}. {in_language(term, language)}", "", 9.5, align=align)
        pdf.ln(3)
    if pdf.get_y() > pdf.h - 70:
        pdf.add_page()
    y = pdf.get_y()
    left = (_l("Signature of the guardian or teacher"), loan.signed_by, loan.signature_png, 15)
    right = (_l("For the school"), loan.lent_by.display_name if loan.lent_by else "", None, 108)
    for label, name, image, x in (left, right):
        pdf.set_xy(x, y)
        for language in SCHOOL_LANGUAGES:
            pdf.set_x(x)
            pdf.write_lines(85, in_language(label, language), "B", 9)
        if name:
            pdf.set_x(x)
            pdf.write_lines(85, name, "", 10)
        top = y + 20
        if image:
            pdf.image(io.BytesIO(image), x=x, y=top, w=80, h=40, keep_aspect_ratio=True)
        else:
            pdf.rect(x, top, 80, 40)
    return bytes(pdf.output())

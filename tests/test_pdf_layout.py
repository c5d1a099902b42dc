"""Every PDF made from the demo, in French, Arabic and English: no word printed over another,
none off the printable area. The demo holds the longest values a programme's lists do (a
long model name, a long school name in both scripts)."""

import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from conftest import make_app
from tracker.deliveries import documents
from tracker.deliveries.models import HANDED_OVER, Delivery
from tracker.deliveries.services import get_delivery
from tracker.demo.loader import LONG_MODEL
from tracker.devices.models import Device
from tracker.donations.models import Donation
from tracker.extensions import db
from tracker.labels.services import choose_layout, labels_for
from tracker.labels.sheets import LAYOUTS, render_labels
from tracker.reports.donor import donor_pdf
from tracker.schools.models import School

MM = 72 / 25.4  # points
MARGIN = 5 * MM  # what an office printer may not reach at the paper's edge
LABEL_MARGIN = 1 * MM  # label printers and label stock print nearly to the edge
SLACK = 0.25  # points: glyph boxes of neighbouring letters may touch


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    path = tmp_path_factory.mktemp("pdfs") / "demo.sqlite"
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["demo"])
        assert result.exit_code == 0, result.output
        yield app
        db.session.remove()
        db.engine.dispose()


def words(data: bytes):
    """(page, text, box) for every word of the PDF; a box is (left, bottom, right, top)."""
    document = pdfium.PdfDocument(data)
    for number, page in enumerate(document):
        width, height = page.get_size()
        text = page.get_textpage()
        word, box = "", None
        for index in range(text.count_chars()):
            char = text.get_text_range(index, 1)
            left, bottom, right, top = text.get_charbox(index)
            if not char.strip() or right <= left:
                if word:
                    yield number, word, box, (width, height)
                word, box = "", None
                continue
            word += char
            if box is None:
                box = (left, bottom, right, top)
            else:
                box = (min(box[0], left), min(box[1], bottom), max(box[2], right), max(box[3], top))
        if word:
            yield number, word, box, (width, height)


def overlaps(a, b) -> bool:
    return (
        a[0] + SLACK < b[2] - SLACK
        and b[0] + SLACK < a[2] - SLACK
        and a[1] + SLACK < b[3] - SLACK
        and b[1] + SLACK < a[3] - SLACK
    )


def problems_of(data: bytes, margin: float = MARGIN) -> list[str]:
    found, by_page = [], {}
    for page, word, box, (width, height) in words(data):
        left, bottom, right, top = box
        if left < margin or bottom < margin or right > width - margin or top > height - margin:
            found.append(f"page {page + 1}: {word!r} leaves the printable area at {box}")
        by_page.setdefault(page, []).append((word, box))
    for page, placed in by_page.items():
        placed.sort(key=lambda item: item[1][0])
        for i, (word, box) in enumerate(placed):
            for other, other_box in placed[i + 1 :]:
                if other_box[0] >= box[2]:
                    break
                if overlaps(box, other_box):
                    found.append(f"page {page + 1}: {word!r} is printed over {other!r}")
    return found


def the_pdfs():
    """Every kind of PDF the demo can make."""
    made = {}
    for delivery_id in db.session.scalars(sa.select(Delivery.id).order_by(Delivery.id)):
        delivery = get_delivery(delivery_id, whole=True)
        made[f"delivery note {delivery.reference}"] = documents.delivery_note(delivery)
        if delivery.status in HANDED_OVER:
            made[f"proof of delivery {delivery.reference}"] = documents.receipt(delivery)
    donation_id = db.session.scalar(sa.select(Donation.id))
    made["donor report"] = donor_pdf(donation_id)
    ids = list(db.session.scalars(sa.select(Device.id).order_by(Device.id).limit(60)))
    for layout in LAYOUTS:
        made[f"labels {layout}"] = render_labels(labels_for(device_ids=ids), choose_layout(layout))
    return made


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_no_word_of_any_pdf_overlaps_another_or_leaves_the_page(demo_app, language):
    delivered = db.session.scalars(
        sa.select(Device.model).where(Device.status == "delivered").distinct()
    ).all()
    assert LONG_MODEL in delivered  # the longest values are on the papers
    longest = max(db.session.scalars(sa.select(School.name_fr)), key=len)
    assert (
        longest
        in db.session.scalars(
            sa.select(School.name_fr).join(Delivery).where(Delivery.status.in_(HANDED_OVER))
        ).all()
    )
    with demo_app.test_request_context(), force_locale(language):
        made = the_pdfs()
    assert len(made) >= 8
    found = {
        name: problems_of(data, LABEL_MARGIN if name.startswith("labels") else MARGIN)
        for name, data in made.items()
    }
    assert not any(found.values()), {name: p[:5] for name, p in found.items() if p}


def test_the_check_finds_words_printed_over_each_other():
    """The check itself: two words drawn at one place are found."""
    from tracker.pdf import TrackerPdf

    pdf = TrackerPdf()
    pdf.add_page()
    pdf.write_cell(20, 6, "Huawei MatePad T10 (AGR-L09)", "", 8.5)
    pdf.set_x(pdf.l_margin + 20)
    pdf.write_cell(20, 6, "Livrée · مسلمة", "", 8.5)
    assert any("printed over" in problem for problem in problems_of(bytes(pdf.output())))


def test_an_arabic_donor_report_runs_right_to_left_with_arabic_names(demo_app):
    """Asked in Arabic, the report's title starts at the right, its table's first column
    (the proof of delivery's reference) is the rightmost, and schools have Arabic names;
    in French the same references sit at the left."""
    donation = db.session.scalar(sa.select(Donation))
    school = db.session.scalar(
        sa.select(School).join(Delivery, Delivery.school_id == School.id).limit(1)
    )
    placed = {}
    for language in ("ar", "fr"):
        with demo_app.test_request_context(), force_locale(language):
            data = donor_pdf(donation.id)
        found = list(words(data))
        # (pdfium reads an Arabic page's Latin words in its own order: "-00008DEL")
        references = [box for _p, text, box, _s in found if "DEL" in text and "000" in text]
        (width, _height) = found[0][3]
        placed[language] = min(box[0] for box in references) / width
        text = "".join(page.get_textpage().get_text_range() for page in pdfium.PdfDocument(data))
        if language == "ar":
            assert school.name_ar.split()[0] in text or school.name_ar[:6] in text
    assert placed["ar"] > 0.7 and placed["fr"] < 0.3, placed

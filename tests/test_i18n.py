"""French, Arabic and English: complete catalogues, the language chosen per request, a
right-to-left page, and Arabic that stays Arabic in PDFs and spreadsheets."""

import io
import re
import unicodedata
from pathlib import Path

import openpyxl
import pypdfium2 as pdfium
import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from flask_babel import force_locale

from conftest import download, login, text_of
from tracker.deliveries import services
from tracker.extensions import db
from tracker.spreadsheets.services import import_file
from tracker.spreadsheets.workbooks import template_workbook
from tracker.timezone import local_today

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "tracker" / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd0-9]*")


@pytest.fixture(scope="module")
def messages_in_code(tmp_path_factory) -> set:
    """Every message the code and templates show, extracted afresh."""
    template = tmp_path_factory.mktemp("i18n") / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l"]
        + ["-k", "plural_forms:1,2"]
        + ["--no-location", "-o", str(template), str(ROOT)]
    )
    with template.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


def _key(message_id):
    return message_id if isinstance(message_id, str) else tuple(message_id)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_every_message_is_translated_with_its_placeholders(messages_in_code, language):
    with (CATALOGUES / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    translated = {_key(m.id): m for m in catalogue if m.id}
    missing = [m for m in map(_key, messages_in_code) if m not in translated]
    assert not missing, f"{len(missing)} messages lack a {language} translation: {missing[:5]}"
    for key, message in translated.items():
        if key not in set(map(_key, messages_in_code)):
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings) and not message.fuzzy, f"{language}: {key!r} is not translated"
        wanted = set(PLACEHOLDER.findall(key if isinstance(key, str) else key[-1]))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == wanted, f"{language}: {key!r} → {text!r}"


def test_no_message_hides_inside_an_f_string():
    """Babel's extractor does not look inside f-strings (on Python 3.11): a `_()` there is
    never offered to translators and stays English on every page and paper."""
    hidden = re.compile(r"""\bf(["'])[^"'\n]*\{_l?\(""")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "tracker").rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if hidden.search(line)
    ]
    assert not found, found


@pytest.mark.parametrize(
    ("language", "direction", "word"),
    [("fr", "ltr", "Se connecter"), ("ar", "rtl", "تسجيل الدخول"), ("en", "ltr", "Sign in")],
)
def test_the_browser_language_is_used_before_sign_in(client, language, direction, word):
    page = client.get("/login", headers={"Accept-Language": f"{language},en;q=0.5"})
    html = page.get_data(as_text=True)
    assert f'<html lang="{language}" dir="{direction}">' in html
    assert word in text_of(page)


def test_the_switcher_wins_over_the_browser_and_is_saved_for_the_user(client, create_user):
    arabic = {"Accept-Language": "ar"}
    client.post("/language", data={"language": "fr", "next": "/login"})
    assert '<html lang="fr" dir="ltr">' in client.get("/login", headers=arabic).text
    user = create_user("coordinator")
    login(client, user)
    client.post("/language", data={"language": "ar", "next": "/"})
    db.session.refresh(user)
    assert user.locale == "ar"
    dashboard = client.get("/", headers={"Accept-Language": "fr"})
    assert '<html lang="ar" dir="rtl">' in dashboard.text
    assert "لوحة القيادة" in text_of(dashboard)
    # The saved preference follows the user to a new browser.
    other = client.application.test_client()
    login(other, user)
    assert '<html lang="ar" dir="rtl">' in other.get("/").text


def test_dates_and_refusals_come_in_the_readers_language(client, delivery_setting):
    s = delivery_setting
    s["agent"].locale = "fr"
    db.session.commit()
    (delivery,) = services.create_deliveries(
        s["plan"].id,
        actor=s["coordinator"],
        assigned_to_id=s["agent"].id,
        planned_on=__import__("datetime").date(2026, 12, 3),
        school_ids=[s["school_a"].id],
    )
    db.session.commit()
    login(client, s["agent"])
    page = text_of(client.get(f"/deliveries/{delivery.id}"))
    assert "prévue le 3 déc. 2026" in page
    s["coordinator"].locale = "ar"
    db.session.commit()
    client.post("/logout")
    login(client, s["coordinator"])
    answer = client.post(
        f"/deliveries/{delivery.id}/scan",
        data={"code": s["b_devices"][0].asset_tag},
        headers={"Accept": "application/json"},
    ).get_json()
    assert answer["message"] == f"{s['b_devices'][0].asset_tag} محجوزة لمدرسة أخرى: École Ibn Sina."


def _pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    text = "".join(page.get_textpage().get_text_range() for page in document)
    return unicodedata.normalize("NFKC", text)  # presentation forms back to letters


def test_the_delivery_note_reads_in_french_and_arabic_in_logical_order(client, delivery_setting):
    s = delivery_setting
    (delivery,) = services.create_deliveries(
        s["plan"].id,
        actor=s["coordinator"],
        assigned_to_id=None,
        planned_on=None,
        school_ids=[s["school_a"].id],
    )
    db.session.commit()
    login(client, s["coordinator"])
    text = _pdf_text(client.get(f"/deliveries/{delivery.id}/note.pdf").data)
    assert "Bon de livraison\r\nوصل التسليم\r\n" in text  # a title line per language
    assert "مدرسة الأمل" in text  # the school's Arabic name, letters in reading order
    assert "رقم الجرد" in text and "N° d'inventaire" in text


def test_an_arabic_template_imports_back(app, tmp_path, create_donation):
    donation = create_donation()
    path = tmp_path / "arabic.xlsx"
    with force_locale("ar"):
        template_workbook("devices", path)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.worksheets[0]
    assert sheet.title == "الأجهزة" and sheet["A1"].value == "الرقم التسلسلي"
    sheet.append(["SN-AR-0001", None, "T10"])
    workbook.save(path)
    report = import_file(
        "devices", path, "arabic.xlsx", commit=True, actor=None, donation_id=donation.id
    )
    assert report.ok and report.new == 1, [str(p) for p in report.problems]


def test_exports_speak_the_readers_language(client, create_user, create_device):
    create_device()
    user = create_user("manager")
    user.locale = "fr"
    db.session.commit()
    login(client, user)
    workbook = openpyxl.load_workbook(io.BytesIO(download(client, "/exports/devices.xlsx").data))
    sheet = workbook.worksheets[0]
    assert sheet.title == "Appareils"
    assert [c.value for c in sheet[1]][:3] == ["N° d'inventaire", "N° de série", "IMEI"]
    assert sheet["G2"].value == "En stock"


@pytest.mark.parametrize(
    ("language", "words"),
    [("fr", "Connectez-vous pour voir cette page."), ("ar", "سجّل الدخول لرؤية هذه الصفحة.")],
)
def test_the_sign_in_wall_speaks_the_readers_language(client, language, words):
    """Sent to sign in from a page, the reader is told why in their language (not the
    library's English)."""
    header = {"Accept-Language": language}
    page = client.get("/devices/", headers=header, follow_redirects=True)
    text = text_of(page)
    assert words in text
    assert "Please log in" not in text


def test_file_kinds_and_names_keep_their_direction_in_arabic(client, delivery_setting):
    """ "(.xlsx)" stays "(.xlsx)" in an Arabic sentence, and a Latin name beside an Arabic
    word does not swap places with it: each is isolated (`<bdi>`)."""
    from conftest import dispatched_delivery

    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    s["agent"].locale = "ar"
    db.session.commit()
    login(client, s["agent"])
    html = client.get(f"/deliveries/{delivery_id}").get_data(as_text=True)
    assert '<bdi dir="ltr">(.xlsx)</bdi>' in html and '<bdi dir="ltr">(PDF)</bdi>' in html
    assert f"<bdi>{s['agent'].display_name}</bdi>" in html


@pytest.mark.parametrize(
    ("language", "count", "words"),
    [
        ("fr", 1, "1 tablette en attente"),
        ("fr", 3, "3 tablettes en attente"),
        ("ar", 2, "2 لوحتان في الانتظار"),
        ("ar", 6, "6 لوحات في الانتظار"),
        ("ar", 11, "11 لوحة في الانتظار"),
    ],
)
def test_counts_take_the_plural_form_of_the_readers_language(app, language, count, words):
    """Arabic has six plural forms and French counts 0 and 1 as one: "6 لوحة" and
    "1 tablettes" were what a single form gave."""
    from flask import render_template_string

    from tracker.i18n import ngettext

    page = "{{ ngettext('%(num)s tablet waiting', '%(num)s tablets waiting', n) }}"
    with app.test_request_context(), force_locale(language):
        assert render_template_string(page, n=count) == words
        assert ngettext("%(num)s tablet waiting", "%(num)s tablets waiting", count) == words


def test_no_template_text_outside_the_translation_functions():
    """Words a reader sees in a template (text, placeholder, title, aria-label, alt) go
    through `_()`: a bare English word stays English on a French or Arabic page."""
    jinja = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
    blocks = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
    tags = re.compile(r"<[^>]*>", re.S)
    words = re.compile(r"[A-Za-zÀ-ÿ\u0600-\u06ff]{2,}")
    attributes = re.compile(r'(?:placeholder|title|aria-label|alt)="([^"{]*)"')
    found = {}
    for path in (ROOT / "templates").rglob("*.html"):
        text = jinja.sub(" ", blocks.sub(" ", path.read_text()))
        seen = words.findall(tags.sub(" ", text))
        seen += [value for value in attributes.findall(text) if words.search(value)]
        seen = [word for word in seen if word != "tracker"]  # the product's name
        if seen:
            found[str(path.relative_to(ROOT))] = seen[:5]
    assert not found, found


def test_label_stocks_import_kinds_file_buttons_and_zoom_speak_french(client, create_user):
    """What was left in English on French pages: the label stocks, the kind of an import,
    the file picker's button (the browser's own) and the map's zoom buttons."""
    user = create_user("coordinator")
    user.locale = "fr"
    db.session.commit()
    login(client, user)
    assert "3 × 7 étiquettes de 63,5 × 38,1 mm" in text_of(client.get("/labels/"))
    imports = client.get("/imports/").get_data(as_text=True)
    assert "Choisir un fichier" in imports and 'class="file-input"' in imports
    page = client.get("/map").get_data(as_text=True)
    assert 'data-zoom-in="Zoomer"' in page and 'data-zoom-out="Dézoomer"' in page


def test_a_proposals_shares_are_written_as_the_reader_writes_decimals(app):
    from tracker.allocations.proposals import reason_text

    with app.test_request_context(), force_locale("fr"):
        assert reason_text("share:need:8:1.64") == "part du besoin 8 : 1,64, arrondie"
    with app.test_request_context(), force_locale("en"):
        assert reason_text("share:need:8:1.64") == "share of need 8: 1.64, rounded"


def test_the_phone_counts_in_every_plural_form_of_the_readers_language(app):
    """The offline app says "2 إجراءان" or "6 actions envoyées" itself: the server gives it
    each CLDR form, and the phone picks one with Intl.PluralRules."""
    from tracker.i18n import plural_forms

    with app.test_request_context(), force_locale("ar"):
        forms = plural_forms("%(n)s action sent.", "%(n)s actions sent.")
    assert set(forms) == {"zero", "one", "two", "few", "many", "other"}
    assert forms["two"] == "أُرسل إجراءان (%(n)s)." and forms["few"] == "أُرسلت %(n)s إجراءات."
    with app.test_request_context(), force_locale("fr"):
        forms = plural_forms("%(n)s action sent.", "%(n)s actions sent.")
    assert forms["one"] == "%(n)s action envoyée." and forms["other"] == "%(n)s actions envoyées."


def test_a_refusal_kept_on_a_delivery_is_read_in_each_readers_language(client, delivery_setting):
    """The agent scans an unknown code in French; the delivery page says why in Arabic to
    an Arabic reader and in English to an English one (kept as a message, said when read)."""
    from conftest import dispatched_delivery, login
    from tracker.deliveries import handover

    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    with client.application.test_request_context(method="POST"), force_locale("fr"):
        answer = handover.field_scan(delivery_id, "ZZZ-404", s["agent"])
        assert answer.message == "Aucune tablette n'a le code ZZZ-404."
    db.session.commit()
    login(client, s["coordinator"])
    client.post("/language", data={"language": "ar"})
    assert "لا توجد لوحة بالرمز ZZZ-404." in client.get(f"/deliveries/{delivery_id}").get_data(
        as_text=True
    )
    client.post("/language", data={"language": "en"})
    page = client.get(f"/deliveries/{delivery_id}").get_data(as_text=True)
    assert "No tablet has the code ZZZ-404." in page and "Aucune tablette" not in page


def test_days_are_typed_and_shown_as_the_reader_writes_them(client, create_user):
    """A day field speaks the page's language, not the browser's: 06/12/2026 in French,
    12/6/2026 in English, 2026-12-06 everywhere; a day that is none is refused beside it."""
    from datetime import timedelta

    import sqlalchemy as sa

    from tracker.counts.models import Count

    login(client, create_user("coordinator"))
    tomorrow = local_today() + timedelta(days=1)
    for language, typed in (
        ("fr", tomorrow.strftime("%d/%m/%Y")),
        ("en", f"{tomorrow.month}/{tomorrow.day}/{tomorrow.year}"),
        ("ar", tomorrow.isoformat()),
    ):
        client.post("/language", data={"language": language})
        form = client.get("/counts/").get_data(as_text=True)
        assert 'type="date"' not in form and 'inputmode="numeric"' in form
        opened = client.post(
            "/counts/",
            data={
                "name": f"Jour {language}",
                "scope": "programme",
                "starts_on": typed,
                "ends_on": typed,
            },
        )
        assert opened.status_code == 302, (language, text_of(opened))
        count = db.session.scalar(sa.select(Count).where(Count.name == f"Jour {language}"))
        assert count.starts_on == tomorrow
    client.post("/language", data={"language": "fr"})
    refused = client.post(
        "/counts/",
        data={"name": "x", "scope": "programme", "starts_on": "31/02/2027", "ends_on": "x"},
    )
    said = text_of(refused)
    assert refused.status_code == 422 and "« 31/02/2027 » n’est pas un jour" in said
    assert "écrivez-le comme" in said

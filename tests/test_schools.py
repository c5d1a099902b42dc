"""Schools: the rules, the searchable list with filters, and the forms."""

import pytest

from conftest import login, text_of
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.schools.models import School
from tracker.schools.services import create_school, update_school


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("code", "", "School code is required."),
        ("name_fr", "", "French name is required."),
        ("latitude", "91", "Latitude 91 must be between -90 and 90."),
        ("longitude", "east", "Longitude 'east' is not a number."),
        ("need", "-3", "Need -3 must be between 0 and 1000000."),
    ],
)
def test_bad_values_are_named(app, field, value, message):
    values = {"code": "X1", "name_fr": "École", "region": "Souss-Massa", field: value}
    with pytest.raises(ValidationFailed) as refused:
        create_school(**values)
    assert message in str(refused.value) and refused.value.field == field


def test_code_is_unique(app, create_school):
    create_school(code="01234A")
    with pytest.raises(ValidationFailed, match="'01234A' is already used"):
        create_school(code="01234a")
    other = create_school(code="B2")
    with pytest.raises(ValidationFailed, match="already used"):
        update_school(other.id, code="01234A", name_fr="x", region="y")


def test_list_searches_and_filters(signed_in, client, create_school):
    create_school(code="A1", name_fr="Lycée Ibn Rochd", region="Souss-Massa", province="Tiznit")
    create_school(
        code="A2",
        name_fr="Collège Al Farabi",
        region="Souss-Massa",
        province="Taroudant",
        name_ar="إعدادية الفارابي",
    )
    create_school(code="B1", name_fr="École Al Amal", region="L'Oriental", province="Nador")
    signed_in("field")
    assert "3 schools." in text_of(client.get("/schools/"))
    by_region = text_of(client.get("/schools/?region=Souss-Massa"))
    assert "2 schools." in by_region and "École Al Amal" not in by_region
    by_province = text_of(client.get("/schools/?region=Souss-Massa&province=Tiznit"))
    assert "1 school." in by_province and "Ibn Rochd" in by_province
    assert "Collège Al Farabi" in text_of(client.get("/schools/?q=farabi"))
    assert "Collège Al Farabi" in text_of(client.get("/schools/?q=الفارابي"))
    assert "Lycée Ibn Rochd" in text_of(client.get("/schools/?q=a1"))


def test_create_and_edit_from_the_pages(signed_in, client):
    signed_in("coordinator")
    response = client.post(
        "/schools/new",
        data={
            "code": "04567b",
            "name_fr": "École Annahda",
            "name_ar": "مدرسة النهضة",
            "region": "Fès-Meknès",
            "province": "Ifrane",
            "latitude": "33.5",
            "longitude": "-5.1",
            "enrolment": "420",
            "need": "25",
        },
    )
    school = db.session.query(School).one()
    assert response.headers["Location"] == f"/schools/{school.id}"
    page = text_of(client.get(f"/schools/{school.id}"))
    assert "04567B" in page and "مدرسة النهضة" in page and "33.50000, -5.10000" in page
    client.post(
        f"/schools/{school.id}/edit",
        data={"code": "04567B", "name_fr": "École Annahda", "region": "Fès-Meknès", "need": "30"},
    )
    assert db.session.get(School, school.id).need == 30


def test_form_shows_range_errors_next_to_the_field(signed_in, client):
    signed_in("coordinator")
    response = client.post(
        "/schools/new", data={"code": "X", "name_fr": "X", "region": "X", "latitude": "120"}
    )
    assert 'id="latitude-error"' in response.get_data(as_text=True)
    assert db.session.query(School).count() == 0


def test_places_read_and_are_found_in_arabic(client, create_user, create_school):
    """Morocco's regions and provinces ship in Arabic: an Arabic reader sees them so, and
    تارودانت finds the schools of Taroudant."""
    create_school(code="TA1", region="Souss-Massa", province="Taroudant")
    create_school(code="TI1", region="Souss-Massa", province="Tiznit")
    user = create_user("coordinator")
    user.locale = "ar"
    db.session.commit()
    login(client, user)
    page = text_of(client.get("/schools/", query_string={"q": "تارودانت"}))
    assert "TA1" in page and "TI1" not in page
    assert "تارودانت" in page and "سوس ماسة" in page
    assert "سوس ماسة" in text_of(client.get("/progress"))

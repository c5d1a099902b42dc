"""Donations: the service rules, the pages and `tracker donations add|list`."""

from datetime import date

import pytest

from conftest import text_of
from tracker.donations.models import Donation, Donor
from tracker.donations.services import create_donation
from tracker.errors import ValidationFailed
from tracker.extensions import db


def test_same_reference_in_another_case_is_refused(app, create_donation):
    create_donation(reference="ICESCO-HW-2020")
    with pytest.raises(ValidationFailed, match="'icesco-hw-2020' already exists"):
        create_donation(reference="icesco-hw-2020")


def test_donor_is_found_by_name_whatever_the_case(app, create_donation):
    create_donation(donor="Huawei Technologies Morocco")
    create_donation(donor="  huawei   technologies morocco ")
    assert db.session.query(Donor).count() == 1


@pytest.mark.parametrize("quantity, message", [(-1, "cannot be negative"), ("ten", "whole number")])
def test_bad_quantity_is_named(app, quantity, message):
    with pytest.raises(ValidationFailed, match=message) as refused:
        create_donation(
            reference="R-1", donor_name="D", received_on=date(2020, 1, 1), quantity=quantity
        )
    assert refused.value.field == "quantity"


def test_create_from_the_page_and_see_it_listed(signed_in, client):
    signed_in("coordinator")
    response = client.post(
        "/donations/new",
        data={
            "reference": "UNICEF-2021",
            "donor": "UNICEF",
            "received_on": "2021-03-01",
            "quantity": "500",
            "title": "Second batch",
        },
    )
    donation = db.session.query(Donation).one()
    assert response.headers["Location"] == f"/donations/{donation.id}"
    listing = text_of(client.get("/donations/"))
    assert "UNICEF-2021" in listing and "500" in listing
    detail = text_of(client.get(f"/donations/{donation.id}"))
    assert "500 tablets promised are not registered yet." in detail


def test_detail_counts_registered_devices(signed_in, client, create_device):
    device = create_device()
    create_device()
    signed_in("manager")
    html = client.get(f"/donations/{device.donation_id}").get_data(as_text=True)
    assert 'data-testid="registered">2<' in html


def test_edit_keeps_reference_unique(signed_in, client, create_donation):
    first = create_donation(reference="A-1")
    second = create_donation(reference="B-1")
    signed_in("admin")
    response = client.post(
        f"/donations/{second.id}/edit",
        data={"reference": "a-1", "donor": "X", "received_on": "2020-01-01", "quantity": "1"},
    )
    assert "A donation with reference &#39;a-1&#39; already exists." in response.get_data(
        as_text=True
    )
    assert db.session.get(Donation, second.id).reference == "B-1" and first.reference == "A-1"


def test_cli_add_then_list(runner):
    result = runner.invoke(
        args=[
            "donations",
            "add",
            "ICESCO-HW-2020",
            "--donor",
            "Huawei Technologies Morocco",
            "--date",
            "2020-12-28",
            "--quantity",
            "200",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Recorded ICESCO-HW-2020: 200 tablets" in result.output
    listing = runner.invoke(args=["donations", "list"])
    assert "ICESCO-HW-2020" in listing.output and "Huawei Technologies Morocco" in listing.output


def test_cli_refuses_a_duplicate_and_a_bad_date(runner):
    args = ["donations", "add", "REF-1", "--donor", "D", "--date", "2020-12-28", "--quantity", "5"]
    assert runner.invoke(args=args).exit_code == 0
    again = runner.invoke(args=args)
    assert again.exit_code == 1 and "already exists" in again.output
    bad_date = runner.invoke(args=[*args[:6], "28/12/2020", "--quantity", "5"])
    assert bad_date.exit_code == 2 and "28/12/2020" in bad_date.output
    assert db.session.query(Donation).count() == 1

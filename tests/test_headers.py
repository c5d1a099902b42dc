"""Headers as donors and ministries write them (LibreOffice, Excel, pandas, by hand), in
French, English and Arabic: each finds its field, and none finds the wrong one."""

import pytest

from tracker.spreadsheets.headers import Matcher
from tracker.spreadsheets.import_devices import DEVICE_COLUMNS
from tracker.spreadsheets.import_schools import SCHOOL_COLUMNS

DEVICES = [
    ("N° Série", "serial"),
    ("N°Série", "serial"),
    ("No Série", "serial"),
    ("Serial N°", "serial"),
    ("Serial Number (S/N)", "serial"),
    ("S/N", "serial"),
    ("SN", "serial"),
    ("Numéro de série", "serial"),
    ("N° de serie", "serial"),
    ("NUMERO SERIE", "serial"),
    ("Serial", "serial"),
    ("Serial No.", "serial"),
    ("serial_number", "serial"),
    ("SerialNumber", "serial"),
    ("الرقم التسلسلي", "serial"),
    ("رقم التسلسل", "serial"),
    ("IMEI", "imei"),
    ("IMEI No.", "imei"),
    ("N° IMEI", "imei"),
    ("IMEI 1", "imei"),
    ("Numéro IMEI", "imei"),
    ("imei_1", "imei"),
    ("رقم IMEI", "imei"),
    ("Modèle", "model"),
    ("MODELE", "model"),
    ("Model", "model"),
    ("Device model", "model"),
    ("Modèle de l'appareil", "model"),
    ("الطراز", "model"),
    ("État", "condition"),
    ("Etat physique", "condition"),
    ("Condition", "condition"),
    ("الحالة", "condition"),
    ("Remarques", "notes"),
    ("Observations", "notes"),
    ("Comments", "notes"),
    ("ملاحظات", "notes"),
    ("Référence du don", "donation"),
    ("Donation reference", "donation"),
    ("Convention", "donation"),
    ("IMEI 2", "imei2"),
    ("IMEI2", "imei2"),
    ("Second IMEI", "imei2"),
    ("IMEI (SIM 2)", "imei2"),
    ("Deuxième IMEI", "imei2"),
    ("Marque", "brand"),
    ("Brand", "brand"),
    ("Manufacturer", "brand"),
    ("العلامة التجارية", "brand"),
    ("N° d'inventaire", "donor_ref"),
    ("Numéro d'inventaire", "donor_ref"),
    ("Inventory No.", "donor_ref"),
    ("Asset number", "donor_ref"),
    ("Réf. donateur", "donor_ref"),
    ("رقم الجرد", "donor_ref"),
    ("Date de livraison", "donor_delivered_on"),
    ("Delivery date", "donor_delivered_on"),
    ("Livré le", "donor_delivered_on"),
    ("تاريخ التسليم", "donor_delivered_on"),
    ("Fin de garantie", "warranty_until"),
    ("Date de fin de garantie", "warranty_until"),
    ("Warranty end date", "warranty_until"),
    ("Warranty expiry", "warranty_until"),
    ("نهاية الضمان", "warranty_until"),
]
SCHOOLS = [
    ("Code établissement", "code"),
    ("Code Etablissement", "code"),
    ("School code", "code"),
    ("Code GRESA", "code"),
    ("Nom de l'établissement", "name_fr"),
    ("Établissement", "name_fr"),
    ("School name", "name_fr"),
    ("Nom en arabe", "name_ar"),
    ("Nom (arabe)", "name_ar"),
    ("Arabic name", "name_ar"),
    ("اسم المؤسسة", "name_ar"),
    ("Région", "region"),
    ("Code région", "region"),
    ("REGION", "region"),
    ("الجهة", "region"),
    ("Préfecture/Province", "province"),
    ("Province/Préfecture", "province"),
    ("Province", "province"),
    ("Préfecture", "province"),
    ("الإقليم", "province"),
    ("Commune", "commune"),
    ("Municipality", "commune"),
    ("الجماعة", "commune"),
    ("Adresse", "address"),
    ("Address", "address"),
    ("Latitude", "latitude"),
    ("Longitude", "longitude"),
    ("Téléphone", "contact_phone"),
    ("Tél.", "contact_phone"),
    ("Phone number", "contact_phone"),
    ("Effectif", "enrolment"),
    ("Effectif des élèves", "enrolment"),
    ("Nombre d'élèves", "enrolment"),
    ("Enrolment", "enrolment"),
    ("Besoin", "need"),
    ("Besoin en tablettes", "need"),
    ("Need", "need"),
]


@pytest.mark.parametrize(("header", "key"), DEVICES)
def test_a_donors_header_finds_its_field(app, header, key):
    with app.test_request_context():
        assert Matcher(DEVICE_COLUMNS).key_of(header) == key


@pytest.mark.parametrize(("header", "key"), SCHOOLS)
def test_a_ministrys_header_finds_its_field(app, header, key):
    with app.test_request_context():
        assert Matcher(SCHOOL_COLUMNS).key_of(header) == key


@pytest.mark.parametrize(
    "header", ["Carton", "Box", "Prix unitaire", "Fournisseur", "Total", "Garantie"]
)
def test_a_header_of_something_else_finds_nothing(app, header):
    with app.test_request_context():
        assert Matcher(DEVICE_COLUMNS).key_of(header) is None


def test_the_table_holds_at_least_sixty_real_world_headers():
    assert len(DEVICES) + len(SCHOOLS) >= 60


def test_a_missing_column_is_named_with_what_was_found_and_the_closest(app, tmp_path):
    from spreadsheet_files import xlsx

    from tracker.errors import ValidationFailed
    from tracker.spreadsheets.headers import find_header
    from tracker.spreadsheets.readers import iter_rows, sniff

    path = xlsx(tmp_path / "typo.xlsx", [["N° Séri", "Modèle", "Carton"], ["X1", "T10", 1]])
    with app.test_request_context(), pytest.raises(ValidationFailed) as refused:
        find_header(iter_rows(path, sniff(path), 100), DEVICE_COLUMNS)
    message = str(refused.value)
    assert "Found: “N° Séri”, “Carton”." in message
    assert "Is “N° Séri” the serial number?" in message

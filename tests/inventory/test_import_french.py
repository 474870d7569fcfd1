"""The CSV imports (customers, vehicles) answer a French-speaking uploader in French."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests import factories
from tests.french import ENGLISH, FRENCH, NBSP

pytestmark = pytest.mark.django_db

WORKBOOK = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(range(256)) * 20


def _upload(client, url_name: str, data: bytes, headers) -> str:
    response = client.post(
        reverse(url_name), {"file": SimpleUploadedFile("export.csv", data)}, headers=headers
    )
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("url_name", ["leads:customer_import", "inventory:import"])
def test_a_workbook_uploaded_as_it_is_is_refused_in_french(supervisor_client, url_name):
    page = _upload(supervisor_client, url_name, WORKBOOK, FRENCH)
    assert "Ce n’est pas un fichier CSV" in page and "This is not a CSV file" not in page
    assert "This is not a CSV file" in _upload(supervisor_client, url_name, WORKBOOK, ENGLISH)


def test_a_vehicle_lines_errors_name_its_columns_in_french(supervisor_client):
    content = (
        f"Stock;NIV;État;Année;Kilométrage;Prix;Statut\nI1;{factories.vin()};zz;deux;beaucoup;cher;perdu\n"
    )
    page = _upload(supervisor_client, "inventory:import", content.encode(), FRENCH)
    for column in ("État", "Année", "Odomètre (km)", "Prix", "Statut"):
        assert f"{column}{NBSP}: " in page, column
    for english in ("Condition :", "Year", "Odometer", "price", "status"):
        assert f"{english}{NBSP}:" not in page, english

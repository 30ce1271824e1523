"""The export buttons of the station register and the review inbox export the page's own rows;
?export=xlsx on the list pages (older links) leads to the same export with the same filters."""

import io

import openpyxl
import pytest

from stations.models import Station

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_station_register_exports_the_filtered_scoped_rows(client, staff_nanyang):
    client.force_login(staff_nanyang)
    page = client.get("/stations/")
    assert "导出 Excel" in page.content.decode()
    old_link = client.get("/stations/?station_class=training&export=xlsx")
    assert old_link.status_code == 302
    assert old_link["Location"] == "/excel/ledgers/stations/?station_class=training"
    response = client.get(old_link["Location"])
    assert response.status_code == 200 and response["Content-Type"].startswith(XLSX)
    book = openpyxl.load_workbook(
        io.BytesIO(b"".join(response.streaming_content))
        if response.streaming
        else io.BytesIO(response.content)
    )
    text = "\n".join(
        str(cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value
    )
    halls = Station.objects.filter(plan__code="nanyang-2021-2025", station_class="training")
    assert halls.count() == 3
    assert all(hall.name in text for hall in halls)
    others = Station.objects.exclude(station_class="training").values_list("name", flat=True)
    assert not any(name in text for name in others if name)


def test_a_liaison_cannot_export_the_inbox(client, liaison_nanzhao):
    client.force_login(liaison_nanzhao)
    assert client.get("/reporting/review/?export=xlsx", follow=True).status_code == 403


def test_staff_export_the_inbox(client, staff_nanyang):
    client.force_login(staff_nanyang)
    response = client.get("/reporting/review/?export=xlsx", follow=True)
    assert response.status_code == 200 and response["Content-Type"].startswith(XLSX)

"""The dashboard under bad input: odd digits, huge ids, NUL bytes, other spreadsheets' CSV."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboard import imports
from referrals import tree
from referrals.models import ImportJob, Invite


@pytest.fixture
def marketer(client, mara):
    client.force_login(mara)
    return client


@pytest.mark.parametrize("member", ["²", "9" * 30, str(2**63), "9" * 5000])
def test_a_member_id_no_row_can_have_is_a_404_in_the_explorer(marketer, alice, member):
    assert marketer.get("/dashboard/default/tree/", {"member": member}).status_code == 404


@pytest.mark.parametrize("after", ["²", "9" * 30, "9" * 5000, "-3"])
def test_a_nonsense_page_cursor_starts_the_explorer_at_the_top(marketer, alice, after):
    tree.fold_all()
    response = marketer.get("/dashboard/default/tree/roots.json", {"after": after})
    assert response.status_code == 200
    assert [n["id"] for n in response.json()["nodes"]] == [alice.pk]


@pytest.mark.parametrize("query", ["\x00", "al\x00ice"])
def test_a_search_with_a_nul_byte_finds_nobody(marketer, alice, query):
    assert marketer.get("/dashboard/default/tree/search.json", {"q": query}).json() == {
        "results": []
    }
    page = marketer.get("/dashboard/default/tree/", {"q": query})
    assert page.status_code == 200


@pytest.mark.parametrize("member", ["²", "9" * 30, str(2**63), "9" * 5000])
def test_a_grant_to_a_member_id_no_row_can_have_grants_nothing(marketer, alice, member):
    response = marketer.post(
        "/dashboard/default/grant/", {"member": [member], "invites": 3}, follow=True
    )
    assert response.status_code == 200
    assert "Tick at least one member" in response.content.decode()
    alice.refresh_from_db()
    assert alice.invites_left == alice.campaign.default_quota


def _upload(client, content: bytes):
    return client.post(
        "/dashboard/default/seed/import/",
        {"file": SimpleUploadedFile("seeds.csv", content, "text/csv")},
    )


@pytest.mark.parametrize(
    "content",
    [
        b"name,email\nZoe\x00,zoe@example.com\n",
        "name,email\nZoe,zoe@example.com\n".encode("utf-16"),  # Excel's "Unicode text"
    ],
)
def test_a_file_with_nul_bytes_is_refused_whole(marketer, content):
    response = _upload(marketer, content)
    assert response.status_code == 400
    assert "not a UTF-8 text file" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    "text",
    [
        'name;email\r\nZoë Zhang;zoe@example.com\r\n"Yu; Yan";yan@example.com\r\n',
        "\ufeffName;E-mail\nZoë Zhang;zoe@example.com\nYan Yu;yan@example.com\n",
        "name\temail\nZoë Zhang\tzoe@example.com\nYu; Yan\tyan@example.com\n",
    ],
)
def test_semicolon_and_tab_separated_files_are_read_too(
    marketer, text, django_capture_on_commit_callbacks
):
    """Excel in much of Europe saves CSV with ';'; a paste from a spreadsheet has tabs."""
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(marketer, text.encode())
    assert response.status_code == 302
    job = ImportJob.objects.get()
    imports.run(job_id=job.pk)  # a no-op when the upload ran it eagerly
    job.refresh_from_db()
    assert (job.status, job.imported, job.rejected) == ("done", 2, 0)
    assert sorted(Invite.objects.values_list("recipient_email", flat=True)) == [
        "yan@example.com",
        "zoe@example.com",
    ]


def test_a_comma_file_with_semicolons_in_names_stays_a_comma_file():
    rows = imports.parse("name,email\nYu; Yan,yan@example.com\n")
    assert [(r.name, r.email) for r in rows] == [("Yu; Yan", "yan@example.com")]


def test_the_rejected_rows_download_defuses_tab_and_cr_formulas(marketer, campaign):
    job = ImportJob.objects.create(
        campaign=campaign,
        filename="x.csv",
        status="done",
        report=[
            {"line": 2, "name": "\t=1+1", "email": "\r=cmd", "reason": "not a valid e-mail address"}
        ],
    )
    response = marketer.get(f"/dashboard/default/imports/{job.pk}/rejected.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][1:3] == ["'\t=1+1", "'\r=cmd"]


def test_the_top_connectors_chart_ranks_by_activated_invitees_with_downlines(marketer, alice, bob):
    bob.user.display_name = "</script><img src=x onerror=alert(1)>"
    bob.user.save(update_fields=["display_name"])
    tree.fold_all()
    page = marketer.get("/dashboard/default/")
    html = page.content.decode()
    assert 'id="chart-connectors"' in html
    assert "<img src=x" not in html  # json_script escapes < and >
    data = json.loads(html.split('id="dashboard-data" type="application/json">')[1].split("<")[0])
    connectors = data["connectors"]
    assert connectors["labels"][0].endswith("Alice")
    assert connectors["activated"][0] == 0 and connectors["downline"][0] == 1
    assert any("</script><img" in label for label in connectors["labels"])

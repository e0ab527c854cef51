"""The comparison and quality-check pages a standards officer uses in the browser."""

from urllib.parse import urlencode

import pytest
from django.test import Client

from guanjia.core.scope import DataScope
from guanjia.standards import services
from guanjia.standards.parsing import parse_text

from ..conftest import make_role, make_user
from .library_fixtures import import_fixture, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_client(world):
    user = make_user(
        "officer", world["A"], make_role("officer", DataScope.AGENCY_AND_BELOW, ["standards.*"])
    )
    client = Client()
    client.force_login(user)
    return client


def _new_edition(agency, *, is_public=True):
    edited = (
        text("9001")
        .replace("DB50/T 9001—2022", "DB50/T 9001—2024")
        .replace("不应超过150克每人次", "不应超过120克每人次")
    )
    return services.import_document(None, parse_text(edited), agency, is_public=is_public)[0]


def test_compare_page_shows_the_changed_clause_and_its_numbers(world, officer_client):
    import_fixture("9001", world["A"])
    _new_edition(world["A"])
    query = urlencode({"a": "DB50/T 9001—2022", "b": "db50/t9001-2024"})
    html = officer_client.get(f"/standards/compare/?{query}").content.decode()
    row = next(r for r in html.split("<tr") if 'class="cmp-changed"' in r)
    assert "7.2" in row
    assert "<del>5</del>" in row and "<ins>2</ins>" in row  # 150 → 120, character by character
    assert "150 → 120" in row


def test_compare_page_does_not_reach_another_agencys_private_standard(world, officer_client):
    import_fixture("9001", world["A"])
    _new_edition(world["B"], is_public=False)
    query = urlencode({"a": "DB50/T 9001—2022", "b": "DB50/T 9001—2024"})
    html = officer_client.get(f"/standards/compare/?{query}").content.decode()
    assert 'class="cmp-' not in html and "2024" in html  # the form keeps the input, no result
    assert "120" not in html


def test_check_page_lists_findings(world, officer_client):
    standard = import_fixture("9003", world["A"])[0]
    response = officer_client.get(f"/standards/{standard.pk}/check/")
    assert response.status_code == 200
    assert "质量检查" in response.content.decode()
    other = import_fixture("9002", world["B"], is_public=False)[0]
    assert officer_client.get(f"/standards/{other.pk}/check/").status_code == 404

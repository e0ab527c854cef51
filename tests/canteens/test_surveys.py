"""Diner surveys: the public form answers anonymously (no user, no address anywhere), keeps
CSRF, refuses bad scores and unknown links, holds back repeats; results per period."""

import datetime as dt
import re
import uuid
from functools import partial

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client

from guanjia.canteens import surveys, views_surveys, waste
from guanjia.canteens.models import Canteen, SurveyResponse
from guanjia.core.indicator_registry import Period
from guanjia.core.models import ObjectChange, OperationLog

from ..conftest import api_client
from .conftest import make_canteen


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def form_url(canteen):
    return f"/canteens/survey/{canteen.survey_token}/"


def csrf_client(url):
    """A browser: CSRF checks on, the token read from the form it was served."""
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.7")
    page = client.get(url)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    return client, token.group(1)


def test_anonymous_answer_is_saved_without_identity(canteens):
    url = form_url(canteens["A"])
    client, token = csrf_client(url)
    r = client.post(url, {"csrfmiddlewaretoken": token, "overall": "5", "taste": "4",
                          "comment": "红烧肉很好吃"})  # fmt: skip
    assert r.status_code == 200 and "感谢" in r.content.decode()
    answer = SurveyResponse.objects.get()
    assert (answer.canteen, answer.overall, answer.taste, answer.variety) == (
        canteens["A"], 5, 4, None,
    )  # fmt: skip
    kind = ContentType.objects.get_for_model(SurveyResponse)
    change = ObjectChange.objects.get(content_type=kind, object_id=str(answer.pk), action="create")
    assert change.user_id is None
    assert not OperationLog.objects.filter(ip="203.0.113.7").exists()
    # The POST is in the operation log (every POST is), without the diner's address.
    assert list(OperationLog.objects.filter(path=url).values_list("ip", "user_id")) == [
        (None, None)
    ]


def test_csrf_is_kept(canteens):
    client = Client(enforce_csrf_checks=True)
    r = client.post(form_url(canteens["A"]), {"overall": "5"})
    assert r.status_code == 403 and not SurveyResponse.objects.exists()


def test_bad_scores_are_refused(canteens):
    url = form_url(canteens["A"])
    client, token = csrf_client(url)
    bad_answers = (
        {"overall": "6"}, {"overall": "0"}, {"overall": "x"}, {},
        {"overall": "4", "hygiene": "9"}, {"overall": "4", "comment": "长" * 501},
    )  # fmt: skip
    for bad in bad_answers:
        r = client.post(url, {"csrfmiddlewaretoken": token, **bad})
        assert r.status_code == 400, bad
    assert not SurveyResponse.objects.exists()


def test_unknown_or_inactive_canteen_is_404(canteens):
    assert Client().get(f"/canteens/survey/{uuid.uuid4()}/").status_code == 404
    assert Client().get("/canteens/survey/not-a-uuid/").status_code == 404
    b = canteens["B"]
    b.is_active = False
    b.save()
    assert Client().get(form_url(b)).status_code == 404


def test_repeat_from_the_same_browser_is_held_back(canteens):
    url = form_url(canteens["A"])
    client, token = csrf_client(url)
    assert client.post(url, {"csrfmiddlewaretoken": token, "overall": "4"}).status_code == 200
    r = client.post(url, {"csrfmiddlewaretoken": token, "overall": "1"})
    assert r.status_code == 429
    other, token2 = csrf_client(url)  # another diner's phone
    assert other.post(url, {"csrfmiddlewaretoken": token2, "overall": "3"}).status_code == 200
    assert sorted(SurveyResponse.objects.values_list("overall", flat=True)) == [3, 4]


def test_hourly_cap_per_canteen(canteens, monkeypatch):
    monkeypatch.setattr(surveys, "hourly_cap", lambda canteen: 2)
    a = canteens["A"]
    surveys.submit(a, {"overall": 5})
    surveys.submit(a, {"overall": 5})
    with pytest.raises(surveys.TooFrequent):
        surveys.submit(a, {"overall": 5})
    assert SurveyResponse.objects.count() == 2


def test_results_per_period(canteens, users):
    a = canteens["A"]
    for overall, taste, comment in ((5, 4, "好"), (4, None, ""), (2, 2, "太咸")):
        surveys.submit(a, {"overall": overall, "taste": taste, "comment": comment})
    surveys.submit(canteens["B"], {"overall": 1})
    march = dt.datetime(2026, 3, 10, 4, tzinfo=dt.UTC)
    SurveyResponse.objects.update(submitted_at=march)
    rows = surveys.results(users["agency"], a.__class__.objects.restrict(users["agency"]),
                           Period.parse("2026-03"))  # fmt: skip
    assert len(rows) == 1  # B's canteen is out of scope
    r = rows[0]
    # overall (5+4+2)/3 = 3.67; taste (4+2)/2 = 3; 2 of 3 satisfied = 66.67 %
    assert r["count"] == 3 and r["means"]["overall"] == 3.67 and r["means"]["taste"] == 3.0
    assert r["means"]["service"] is None and r["satisfaction_rate"] == 66.67
    assert sorted(c["comment"] for c in r["comments"]) == ["太咸", "好"]
    april = surveys.results(None, a.__class__.objects.filter(pk=a.pk), Period.parse("2026-04"))
    assert april[0]["count"] == 0 and april[0]["satisfaction_rate"] is None


def test_qr_and_results_pages(canteens, users):
    client = Client()
    client.force_login(users["agency"])
    r = client.get(f"/canteens/{canteens['A'].pk}/survey/qr/")
    body = r.content.decode()
    assert r.status_code == 200 and "<svg" in body and str(canteens["A"].survey_token) in body
    assert client.get(f"/canteens/{canteens['B'].pk}/survey/qr/").status_code == 404
    surveys.submit(canteens["A"], {"overall": 5, "comment": "干净"})
    r = client.get("/canteens/surveys/")
    assert r.status_code == 200 and "干净" in r.content.decode()
    assert "成都市机关食堂" not in r.content.decode()
    r = client.get("/canteens/surveys/export.xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
    assert Client().get("/canteens/surveys/").status_code == 302  # login required


def test_results_api(canteens, users):
    surveys.submit(canteens["A"], {"overall": 5, "hygiene": 4, "comment": "干净"})
    surveys.submit(canteens["A"], {"overall": 3})
    client = api_client(users["agency"])
    year = surveys.waste.today().year
    items = client.get(f"/api/v1/canteens/survey-results?period={year}").json()["items"]
    assert [(i["canteen_id"], i["count"], i["satisfaction_rate"]) for i in items] == [
        (canteens["A"].pk, 2, 50.0)
    ]
    assert items[0]["means"]["hygiene"] == 4.0 and items[0]["comments"][0]["comment"] == "干净"
    answers = client.get(f"/api/v1/canteens/survey-responses?canteen={canteens['A'].pk}").json()
    assert sorted(a["overall"] for a in answers["items"]) == [3, 5]
    assert "user" not in str(answers) and "ip" not in answers["items"][0]
    r = client.get(f"/api/v1/canteens/survey-results?canteen={canteens['B'].pk}")
    assert r.status_code == 404
    assert client.get("/api/v1/canteens/survey-results?period=soon").status_code == 422


def test_a_nul_character_in_the_comment_is_refused(canteens):
    url = form_url(canteens["A"])
    client, token = csrf_client(url)
    r = client.post(url, {"csrfmiddlewaretoken": token, "overall": "5", "comment": "好\x00吃"})
    assert r.status_code == 400 and "空字符" in r.content.decode()
    assert not SurveyResponse.objects.exists()
    with pytest.raises(ValidationError) as exc:
        surveys.check_scores({"overall": "4", "comment": "\x00"})
    assert "comment" in exc.value.message_dict


def _many_canteens(world, count):
    """`count` canteens of agency A, each answered twice (one with a comment) in March."""
    made = [make_canteen(world["A"], f"dz-{i}", f"大足食堂{i:02d}") for i in range(count)]
    for i, canteen in enumerate(made):
        surveys.submit(canteen, {"overall": 5, "taste": 3, "comment": f"意见{i}"})
        surveys.submit(canteen, {"overall": 2 + i % 3})
    SurveyResponse.objects.update(submitted_at=dt.datetime(2026, 3, 10, 4, tzinfo=dt.UTC))
    return made


def test_results_take_a_fixed_number_of_queries(world, users, django_assert_max_num_queries):
    made = _many_canteens(world, 6)
    user, march = users["agency"], Period.parse("2026-03")
    mine = Canteen.objects.restrict(user)
    with django_assert_max_num_queries(4):
        rows = surveys.results(user, mine, march)
    assert [r["canteen_name"] for r in rows] == [c.name for c in made]
    for r, canteen in zip(rows, made, strict=True):
        src = waste.Source(Canteen.objects.filter(pk=canteen.pk), user)
        assert r["count"] == 2 and r["means"]["taste"] == 3.0
        assert r["satisfaction_rate"] == waste.satisfaction_rate(src, march.start, march.end)
        assert [c["comment"] for c in r["comments"]] == [f"意见{made.index(canteen)}"]
    # A slice figures only its own canteens.
    page = surveys.Results(user, mine, march)[2:4]
    assert [r["canteen_name"] for r in page] == [made[2].name, made[3].name]


def test_results_page_and_api_are_paginated(world, users, monkeypatch,
                                            django_assert_max_num_queries):  # fmt: skip
    made = _many_canteens(world, 5)
    monkeypatch.setattr(views_surveys, "paginate", partial(views_surveys.paginate, per_page=2))
    client = Client()
    client.force_login(users["agency"])
    r = client.get("/canteens/surveys/?period=2026-03&page=2")
    body = r.content.decode()
    assert r.status_code == 200 and "第 2 / 3 页" in body
    shown = re.findall(r"<tr><td>(大足食堂\d+)</td>", body)
    assert shown == [made[2].name, made[3].name]
    assert "意见3" in body and "意见0" not in body
    api = api_client(users["agency"])
    with django_assert_max_num_queries(9):
        got = api.get("/api/v1/canteens/survey-results?period=2026-03&limit=2&offset=4").json()
    assert got["count"] == 5 and [i["canteen_name"] for i in got["items"]] == [made[4].name]
    assert got["items"][0]["comments"][0]["comment"] == "意见4"

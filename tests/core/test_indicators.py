"""The indicator registry, statistical periods, and the organisation's own indicators, which
are computed only over what the caller may see."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from guanjia.core import services
from guanjia.core.indicator_registry import (
    IndicatorScope,
    Period,
    all_indicators,
    get_indicator,
    indicator,
)
from guanjia.core.models import Agency, LoginLog, User
from guanjia.core.scope import DataScope

from ..conftest import api_client, make_role, make_user

V1 = "/api/v1"
SHANGHAI = ZoneInfo("Asia/Shanghai")


# -- periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "start", "end", "label"),
    [
        ("2026-03", "month", date(2026, 3, 1), date(2026, 4, 1), "2026-03"),
        ("2026-12", "month", date(2026, 12, 1), date(2027, 1, 1), "2026-12"),
        ("2024-02", "month", date(2024, 2, 1), date(2024, 3, 1), "2024-02"),
        ("2026Q1", "quarter", date(2026, 1, 1), date(2026, 4, 1), "2026Q1"),
        ("2026q4", "quarter", date(2026, 10, 1), date(2027, 1, 1), "2026Q4"),
        (" 2026 ", "year", date(2026, 1, 1), date(2027, 1, 1), "2026"),
    ],
)
def test_period_parse(text, kind, start, end, label):
    p = Period.parse(text)
    assert (p.kind, p.start, p.end, p.label) == (kind, start, end, label)


@pytest.mark.parametrize(
    ("text", "previous"),
    [
        ("2026-03", "2026-02"),
        ("2026-01", "2025-12"),
        ("2026Q3", "2026Q2"),
        ("2026Q1", "2025Q4"),
        ("2026", "2025"),
    ],
)
def test_period_previous(text, previous):
    assert Period.parse(text).previous() == Period.parse(previous)


@pytest.mark.parametrize(
    "text",
    ["", "2026-13", "2026-00", "2026-3", "2026Q5", "2026Q0", "26-03", "2026/03", "abc", None],
)
def test_period_rejects_bad_input(text):
    with pytest.raises(ValueError):
        Period.parse(text)


def test_period_bounds_are_in_beijing_time():
    start, end = Period.parse("2026-03").bounds()
    assert start == datetime(2026, 3, 1, tzinfo=SHANGHAI)
    assert end == datetime(2026, 4, 1, tzinfo=SHANGHAI)
    assert Period.parse("2024-02").days == 29
    assert Period.parse("2026").days == 365


# -- the registry ----------------------------------------------------------------------------


def test_registry_refuses_bad_and_duplicate_keys():
    with pytest.raises(ValueError):
        indicator("NoDomain", unit="", label="x")
    with pytest.raises(ValueError):
        indicator("org.agency_count", unit="个", label="again")(lambda scope, period: 0)
    with pytest.raises(KeyError):
        get_indicator("org.no_such_thing")


def test_org_indicators_are_registered():
    keys = {i.key for i in all_indicators()}
    assert {"org.agency_count", "org.user_count", "org.active_user_share"} <= keys
    assert get_indicator("org.active_user_share").unit == "%"


# -- the API ---------------------------------------------------------------------------------


def test_api_lists_indicators(users):
    r = api_client(users["agency"]).get(f"{V1}/indicators")
    assert r.status_code == 200
    by_key = {i["key"]: i for i in r.json()}
    assert by_key["org.agency_count"]["unit"] == "个"
    assert by_key["org.user_count"]["label"] == "用户数"
    assert by_key["org.active_user_share"]["higher_is_better"] is True
    assert all(
        i["domain"] == "org"
        for i in api_client(users["agency"]).get(f"{V1}/indicators?domain=org").json()
    )


def value(client, key, agency, period="2026-03", **params):
    query = "&".join(f"{k}={v}" for k, v in {"agency": agency, "period": period, **params}.items())
    return client.get(f"{V1}/indicators/{key}/value?{query}")


@pytest.fixture
def org(world, users, regions):
    """A's tree with an inactive sub-agency, an inactive user and logins in March 2026."""
    a2 = services.create_agency(
        None, parent=world["A"], name="大足区已撤销单位", region=regions["500111"], is_active=False
    )
    clerk = make_user("a1_clerk", world["A1"])
    gone = make_user("a_gone", world["A"])
    gone.is_active = False
    gone.save()
    march = datetime(2026, 3, 15, 9, tzinfo=SHANGHAI)
    february = datetime(2026, 2, 10, 9, tzinfo=SHANGHAI)
    for user, when, ok in [
        (users["agency"], march, True),
        (users["agency"], march, True),  # twice: still one user
        (clerk, february, True),
        (users["all"], march, False),  # a failure is not activity
    ]:
        log = LoginLog.objects.create(  # filed under the user's agency, as a login is
            username=user.username, user=user, agency_id=user.agency_id, success=ok
        )
        LoginLog.objects.filter(pk=log.pk).update(time=when)
    return {"A2": a2, "clerk": clerk}


def expected_in_tree(root):
    agencies = [a for a in Agency.objects.all() if a.path.startswith(root.path)]
    active = [a for a in agencies if a.is_active]
    people = [u for u in User.objects.all() if u.agency in agencies and u.is_active]
    return active, people


def test_values_equal_an_independent_count(users, world, org):
    client = api_client(users["agency_and_below"])
    active, people = expected_in_tree(world["A"])
    assert len(active) == 2  # A and A1; A2 is inactive

    r = value(client, "org.agency_count", world["A"].pk)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["value"] == len(active)
    assert (body["agency_id"], body["period"], body["unit"]) == (world["A"].pk, "2026-03", "个")

    assert value(client, "org.user_count", world["A"].pk).json()["value"] == len(people)
    # Logged in during March: users["agency"] only (the clerk logged in during February).
    march = value(client, "org.active_user_share", world["A"].pk).json()
    assert march["value"] == round(100 * 1 / len(people), 2)
    assert march["previous"] == round(100 * 1 / len(people), 2)  # February: the clerk
    assert value(client, "org.active_user_share", world["A"].pk, "2026-01").json()["value"] == 0


def test_include_below_false_counts_the_agency_alone(users, world, org):
    client = api_client(users["agency_and_below"])
    r = value(client, "org.agency_count", world["A"].pk, include_below="false")
    assert r.json()["value"] == 1
    people = [u for u in User.objects.filter(agency=world["A"], is_active=True)]
    r = value(client, "org.user_count", world["A"].pk, include_below="false")
    assert r.json()["value"] == len(people)


def test_values_are_computed_within_the_callers_scope(users, world, org):
    # "Own agency" sees A but not A1: A's tree counts as A alone for this caller.
    r = value(api_client(users["agency"]), "org.agency_count", world["A"].pk)
    assert r.json()["value"] == 1
    scope = IndicatorScope(Agency.objects.get(pk=world["A"].pk), True, users["agency"])
    assert set(scope.agencies()) == {world["A"]}
    # The system itself sees the whole tree.
    assert (
        get_indicator("org.agency_count").compute(
            IndicatorScope(world["A"]), Period.parse("2026-03")
        )
        == 2
    )


def test_other_agencys_value_is_404(users, world):
    client = api_client(users["agency_and_below"])
    for key in ("org.agency_count", "org.user_count", "org.active_user_share"):
        assert value(client, key, world["B"].pk).status_code == 404
    assert value(api_client(users["all"]), "org.agency_count", world["B"].pk).status_code == 200


def test_no_users_means_no_data_not_zero(users, world, regions):
    empty = services.create_agency(None, parent=world["A"], name="空单位", region=regions["500111"])
    r = value(api_client(users["agency_and_below"]), "org.active_user_share", empty.pk)
    assert r.status_code == 200 and r.json()["value"] is None


def test_unknown_indicator_and_bad_period(users, world):
    client = api_client(users["agency"])
    assert value(client, "org.nothing", world["A"].pk).status_code == 404
    assert value(client, "org.agency_count", world["A"].pk, period="2026-13").status_code == 422


def test_indicators_count_only_what_the_caller_may_list(users, world, org):
    """Reading the organisation ("org.view") does not open users or the login log."""
    reader = make_user("org_reader", world["A"], make_role("org_all", DataScope.ALL, ["org.view"]))
    client = api_client(reader)
    assert client.get(f"{V1}/users").json()["count"] == 0
    assert value(client, "org.user_count", world["A"].pk).json()["value"] == 0
    assert value(client, "org.active_user_share", world["A"].pk).json()["value"] is None
    # With the users but not the login log: users are counted, logins are not.
    viewer = make_user(
        "user_viewer", world["A"], make_role("sys_view", DataScope.ALL, ["system.view", "org.view"])
    )
    scope = IndicatorScope(Agency.objects.get(pk=world["A"].pk), True, viewer)
    _active, people = expected_in_tree(world["A"])
    assert get_indicator("org.user_count").compute(scope, Period.parse("2026-03")) == len(people)
    share = get_indicator("org.active_user_share").compute(scope, Period.parse("2026-03"))
    assert share == 0
    assert scope.restrict(LoginLog).count() == 0
    assert IndicatorScope(world["A"]).restrict(LoginLog).count() == LoginLog.objects.count()

"""The `guanjia` commands a script relies on: their JSON and their audit records."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from guanjia.cli import main
from guanjia.core.models import ApiToken, ObjectChange


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_token_create_prints_a_working_token_and_is_audited_as_cli(users, world, capsys):
    call_command("token", "create", "user_agency", "--json")
    token = _json(capsys)["token"]
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/me")
    assert response.status_code == 200 and response.json()["username"] == "user_agency"
    change = ObjectChange.objects.filter(content_type__model="apitoken").latest("pk")
    assert change.source == "cli" and change.action == "create"


def test_token_revoke_by_prefix_stops_the_token(users, world, capsys):
    call_command("token", "create", "user_agency", "--json")
    created = _json(capsys)
    call_command("token", "revoke", created["prefix"], "--json")
    assert _json(capsys) == {"revoked": created["prefix"]}
    client = Client(HTTP_AUTHORIZATION=f"Bearer {created['token']}")
    assert client.get("/api/v1/me").status_code == 401
    assert ApiToken.objects.get(prefix=created["prefix"]).revoked_at is not None


def test_token_for_an_unknown_user_is_a_clear_error(db):
    with pytest.raises(CommandError, match="用户不存在"):
        call_command("token", "create", "nobody", "--json")


def test_indicators_lists_the_registry_and_computes_values(users, world, capsys):
    call_command("indicators", "--json")
    keys = {row["key"] for row in _json(capsys)["indicators"]}
    assert {"org.agency_count", "org.user_count", "org.active_user_share"} <= keys

    call_command("indicators", "--agency", world["A"].name, "--period", "2026-11", "--json")
    doc = _json(capsys)
    values = {row["key"]: row["value"] for row in doc["indicators"]}
    assert doc["agency"] == world["A"].name and doc["period"] == "2026-11"
    assert values["org.agency_count"] == 2  # A and A1 below it
    # The users fixture puts every scope's user (and one without roles) at agency A.
    assert values["org.user_count"] == len(users) - 1


def test_indicators_refuses_a_bad_period(world):
    with pytest.raises(CommandError, match="统计期"):
        call_command("indicators", "--agency", world["A"].name, "--period", "2026-13")


def test_help_lists_guanjia_commands_first(capsys):
    main(["guanjia", "--help"])
    out = capsys.readouterr().out
    ours = out.index("管家 Guanjia commands:")
    assert ours < out.index("[auth]")
    for command in ("up", "demo", "token", "indicators", "backup", "restore"):
        assert f"\n    {command} " in out[ours : out.index("[auth]")]


def test_what_a_command_writes_is_audited_as_cli_under_one_run_id(transactional_db, world):
    # (transactional: a command run from the command line closes the connections at its end)
    code = (
        "from guanjia.core import services; from guanjia.core.models import Agency; "
        f"a = Agency.objects.get(pk={world['A'].pk}); "
        "services.update_agency(None, a, address='棠香街道'); "
        "services.update_agency(None, a, contact_person='王五')"
    )
    main(["guanjia", "shell", "--no-imports", "-c", code])
    rows = list(ObjectChange.objects.filter(object_id=str(world["A"].pk), action="update"))
    assert len(rows) == 2
    assert {(c.source, c.user_name) for c in rows} == {("cli", "cli")}
    assert len({c.request_id for c in rows}) == 1

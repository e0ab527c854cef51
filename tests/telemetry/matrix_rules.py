"""The data-scope matrix's cases (tests/core/test_scope_matrix) for the rule settings.

Rule settings are platform-wide reference data: every holder of telemetry.view reads them
all; only a role of data scope "all" with telemetry.change (or a superuser) changes them —
a user of "own agency" or "agency and below" is refused (403) with nothing written."""

from guanjia.telemetry import rule_defs as R
from guanjia.telemetry.models import RuleSetting

from ..core.conftest import call, snapshot
from ..core.scope_kinds import Write

URL = "/api/v1/telemetry/rules"


class RuleCatalog:
    def scoped(self, ctx, client, user):
        r = client.get(URL)
        assert r.status_code == 200, r.content
        assert {i["rule"] for i in r.json()["items"]} == set(R.RULES)

    wide = scoped

    def norole(self, ctx, client, user):
        assert client.get(URL).json()["items"] == []


class RuleWrite(Write):
    def scoped(self, ctx, client, user):
        before = list(RuleSetting.objects.order_by("pk").values())
        for method, url, body in self._each(ctx):
            snap = snapshot()
            r = call(client, method, url, body)
            assert r.status_code in (403, 404), (url, r.status_code, r.content)
            assert snapshot() == snap
        assert list(RuleSetting.objects.order_by("pk").values()) == before

    norole = scoped


CASES = {
    ("GET", "/telemetry/rules"): RuleCatalog(),
    ("PATCH", "/telemetry/rules/{rule}"): RuleWrite(
        ("PATCH", URL + "/tm_speeding", {"params": {"limit_kmh": 99}}),
        ("PATCH", URL + "/tm_no_order", {"enabled": False}),
    ),
}

"""The data-scope matrix's cases (tests/core/test_scope_matrix) for the rule settings.

Rule settings are platform-wide reference data: every holder of telemetry.view reads them
all; only a role of data scope "all" with telemetry.change (or a superuser) changes them —
a user of "own agency" or "agency and below" is refused (403) with nothing written.

Agencies' own settings (…/overrides) belong to their agency: B's override is not listed
for A's users, and setting or removing one of B's is refused (404) with nothing written;
whoever sees everything lists, sets and removes it."""

from functools import partial

from guanjia.core.models import Agency
from guanjia.telemetry import rule_defs as R
from guanjia.telemetry.models import RuleSetting

from ..core.conftest import call, snapshot
from ..core.scope_kinds import Listing, SeededCase, Write

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


def seed_b_override(ctx):
    """B (成都) runs a lower speed limit of its own."""
    b = Agency.objects.get(pk=ctx["B"])
    if not RuleSetting.objects.filter(rule=R.SPEEDING, agency=b).exists():
        R.set_override(
            None, R.SPEEDING, b, enabled=True, params={"limit_kmh": 80}, source="成都市规定"
        )
    return ctx


Seeded = partial(SeededCase, seed_b_override)
OVERRIDES = URL + "/tm_speeding/overrides"


class OverrideWrite(Write):
    """Write.scoped, and the override rows themselves unchanged."""

    def scoped(self, ctx, client, user):
        before = list(RuleSetting.objects.order_by("pk").values())
        super().scoped(ctx, client, user)
        assert list(RuleSetting.objects.order_by("pk").values()) == before

    norole = scoped


CASES = {
    ("GET", "/telemetry/rules"): RuleCatalog(),
    ("PATCH", "/telemetry/rules/{rule}"): RuleWrite(
        ("PATCH", URL + "/tm_speeding", {"params": {"limit_kmh": 99}}),
        ("PATCH", URL + "/tm_no_order", {"enabled": False}),
    ),
    ("GET", "/telemetry/rules/{rule}/overrides"): Seeded(
        Listing(OVERRIDES, lambda i, ctx: i["agency_id"] in ctx["b_ids"])
    ),
    ("PUT", "/telemetry/rules/{rule}/overrides/{agency_id}"): Seeded(
        OverrideWrite(
            ("PUT", OVERRIDES + "/{B}", {"params": {"limit_kmh": 60}, "source": "越权"}),
            ("PUT", OVERRIDES + "/{B1}", {"enabled": False, "source": "越权"}),
        )
    ),
    ("DELETE", "/telemetry/rules/{rule}/overrides/{agency_id}"): Seeded(
        OverrideWrite(("DELETE", OVERRIDES + "/{B}", None))
    ),
}

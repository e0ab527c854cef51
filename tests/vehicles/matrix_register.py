"""The data-scope matrix's cases (tests/core/test_scope_matrix) for the vehicle register.

Agency B keeps a car 川A90001 (above its standard: 15.8万元 in 机要通信), a driver, a quota,
a garage and an exception approval; agency A a car 渝A90002. Whoever does not see B gets
none of B's rows in lists, exports or the audit, 404 on B's car, and cannot write into B
(create, patch, move A's car into B, set B's quota, approve B's car, import a sheet with a
car of B) — nothing written; whoever sees everything does all of it (in a rolled-back
savepoint). Configuration standards are reference data: the permission is enough to read
them; editing them needs the unrestricted scope.
"""

from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from guanjia.core.models import Agency
from guanjia.vehicles import services
from guanjia.vehicles.models import ConfigurationStandard, Driver, Vehicle
from guanjia.vehicles.reference import load_reference_data
from guanjia.vehicles.validators import vin_check_digit

from ..core.conftest import snapshot
from ..core.scope_kinds import Detail, Listing, Write, _b_agency, _items

V1 = "/api/v1/vehicles"
B_PLATE, A_PLATE = "川A90001", "渝A90002"


def vin(n: int) -> str:
    raw = f"LSGBC5340K0{n:06d}"
    return raw[:8] + vin_check_digit(raw) + raw[9:]


def seed(ctx) -> dict:
    if not Vehicle.objects.filter(plate=B_PLATE).exists():
        load_reference_data()
        b, a = Agency.objects.get(pk=ctx["B"]), Agency.objects.get(pk=ctx["A"])
        common = {
            "category": "JYTX",
            "energy_type": "gasoline",
            "displacement_l": "1.5",
            "purchase_date": date(2022, 1, 1),
        }
        car = services.create_vehicle(
            None, plate=B_PLATE, vin=vin(1), purchase_price=158000, agency=b, **common
        )
        services.create_vehicle(
            None, plate=A_PLATE, vin=vin(2), purchase_price=100000, agency=a, **common
        )
        services.create_driver(
            None,
            agency=b,
            name="成都司机",
            licence_number="510100X",
            licence_expiry=date(2030, 1, 1),
        )
        services.set_quota(None, b, "JYTX", 0, "成都编办")
        services.create_garage(None, agency=b, name="成都车库", lat=30.6, lon=104.06)
        services.approve_exception(
            None,
            car,
            tier="need",
            reason="成都",
            approved_by="四川省机关事务管理局",
            document_number="川机管〔2024〕1号",
            approved_on=date(2024, 1, 1),
        )
    ids = {
        "b_vehicle": Vehicle.objects.get(plate=B_PLATE).pk,
        "a_vehicle": Vehicle.objects.get(plate=A_PLATE).pk,
        "b_driver": Driver.objects.get(licence_number="510100X").pk,
        "standard": ConfigurationStandard.objects.get(key="jytx-basic").pk,
    }
    ctx.update(ids)
    return ids


class Seeded:
    """Seed B's register, then run one of the shared kinds of case."""

    def __init__(self, case):
        self.case = case

    def scoped(self, ctx, client, user):
        seed(ctx)
        self.case.scoped(ctx, client, user)

    def wide(self, ctx, client, user):
        seed(ctx)
        self.case.wide(ctx, client, user)

    def norole(self, ctx, client, user):
        seed(ctx)
        self.case.norole(ctx, client, user)


class Export:
    url = V1 + "/export.xlsx?agency={B}"

    def _plates(self, client, url):
        import io

        from openpyxl import load_workbook

        r = client.get(url)
        if r.status_code != 200:
            return r.status_code, set()
        ws = load_workbook(io.BytesIO(r.content)).active
        return 200, {row[0] for row in ws.iter_rows(min_row=2, values_only=True)}

    def scoped(self, ctx, client, user):
        seed(ctx)
        status, _plates = self._plates(client, self.url.format(**ctx))
        assert status == 404
        status, plates = self._plates(client, V1 + "/export.xlsx")
        assert status == 200 and B_PLATE not in plates and A_PLATE in plates

    def norole(self, ctx, client, user):
        seed(ctx)
        status, plates = self._plates(client, V1 + "/export.xlsx")
        assert status == 200 and plates == set()

    def wide(self, ctx, client, user):
        seed(ctx)
        status, plates = self._plates(client, self.url.format(**ctx))
        assert status == 200 and B_PLATE in plates and A_PLATE not in plates


class Audit:
    def scoped(self, ctx, client, user):
        seed(ctx)
        assert client.get(V1 + "/audit?agency={B}".format(**ctx)).status_code == 404
        r = client.get(V1 + "/audit")
        assert r.status_code == 200, r.content
        assert B_PLATE not in {c["plate"] for c in r.json()["over_standard"]}
        assert all(q["agency_id"] not in ctx["b_ids"] for q in r.json()["over_quota"])

    def norole(self, ctx, client, user):
        seed(ctx)
        r = client.get(V1 + "/audit")
        assert r.status_code == 200 and r.json()["over_standard"] == [] and not r.json()["checked"]

    def wide(self, ctx, client, user):
        seed(ctx)
        r = client.get(V1 + "/audit?agency={B}".format(**ctx))
        assert r.status_code == 200, r.content
        (car,) = r.json()["over_standard"]
        assert car["plate"] == B_PLATE
        assert car["reasons"][0]["approval"]["document_number"] == "川机管〔2024〕1号"
        assert {(q["category"], q["quota"], q["actual"]) for q in r.json()["over_quota"]} == {
            ("JYTX", 0, 1)
        }


class Standards:
    url = V1 + "/standards"

    def scoped(self, ctx, client, user):
        seed(ctx)
        keys = {i["key"] for i in _items(client.get(self.url))}
        assert {"jytx-basic", "nev-sedan", "tzzy-by-department"} <= keys

    wide = scoped

    def norole(self, ctx, client, user):
        seed(ctx)
        assert _items(client.get(self.url)) == []


class Upload:
    """A sheet with a car of B: refused with nothing written unless one sees B."""

    url = V1 + "/import"
    sheet = (
        "车牌号,车架号,车辆类别,排气量(升),购置价格(元),能源类型,购置日期,所属单位,终端手机号\n"
        "川A90003,{vin},机要通信用车,1.5,100000,汽油,2023-01-01,{agency},\n"
    )

    def _post(self, ctx, client):
        b = Agency.objects.get(pk=ctx["B"])
        body = self.sheet.format(vin=vin(3), agency=b.name).encode()
        return client.post(self.url, {"file": SimpleUploadedFile("b.csv", body)})

    def scoped(self, ctx, client, user):
        seed(ctx)
        before = snapshot()
        r = self._post(ctx, client)
        assert r.status_code in (403, 404, 422), (r.status_code, r.content)
        assert snapshot() == before and not Vehicle.objects.filter(plate="川A90003").exists()

    norole = scoped

    def wide(self, ctx, client, user):
        seed(ctx)
        with transaction.atomic():
            r = self._post(ctx, client)
            assert r.status_code == 200, r.content
            assert r.json()["imported"] == 1
            transaction.set_rollback(True)


_approval = {
    "vehicle_id": "{b_vehicle}",
    "tier": "special",
    "reason": "越权",
    "approved_by": "x",
    "document_number": "x1",
    "approved_on": "2024-05-01",
}

CASES = {
    ("GET", "/vehicles/"): Seeded(Listing(V1 + "/", _b_agency)),
    ("POST", "/vehicles/"): Seeded(
        Write(
            (
                "POST",
                V1 + "/",
                {
                    "plate": "川A90009",
                    "vin": vin(9),
                    "category": "QT",
                    "energy_type": "bev",
                    "purchase_price": 150000,
                    "purchase_date": "2023-01-01",
                    "agency_id": "{B}",
                },
            )
        )
    ),
    ("GET", "/vehicles/export.xlsx"): Export(),
    ("POST", "/vehicles/import"): Upload(),
    ("GET", "/vehicles/audit"): Audit(),
    ("GET", "/vehicles/{vehicle_id}"): Seeded(Detail(V1 + "/{b_vehicle}")),
    ("PATCH", "/vehicles/{vehicle_id}"): Seeded(
        Write(
            ("PATCH", V1 + "/{b_vehicle}", {"notes": "越权"}),
            ("PATCH", V1 + "/{b_vehicle}", {"status": "sealed"}),
            ("PATCH", V1 + "/{a_vehicle}", {"agency_id": "{B}"}),
        )
    ),
    ("GET", "/vehicles/drivers"): Seeded(Listing(V1 + "/drivers", _b_agency)),
    ("POST", "/vehicles/drivers"): Seeded(
        Write(
            (
                "POST",
                V1 + "/drivers",
                {
                    "agency_id": "{B}",
                    "name": "越权",
                    "licence_number": "X9",
                    "licence_expiry": "2030-01-01",
                },
            )
        )
    ),
    ("PATCH", "/vehicles/drivers/{driver_id}"): Seeded(
        Write(("PATCH", V1 + "/drivers/{b_driver}", {"name": "越权"}))
    ),
    ("GET", "/vehicles/quotas"): Seeded(Listing(V1 + "/quotas", _b_agency)),
    ("PUT", "/vehicles/quotas"): Seeded(
        Write(("PUT", V1 + "/quotas", {"agency_id": "{B}", "category": "JYTX", "quota": 9}))
    ),
    ("GET", "/vehicles/standards"): Standards(),
    ("PATCH", "/vehicles/standards/{standard_id}"): Seeded(
        Write(("PATCH", V1 + "/standards/{standard}", {"max_price": 130000}))
    ),
    ("GET", "/vehicles/garages"): Seeded(Listing(V1 + "/garages", _b_agency)),
    ("POST", "/vehicles/garages"): Seeded(
        Write(
            (
                "POST",
                V1 + "/garages",
                {"agency_id": "{B}", "name": "越权车库", "lat": 30.0, "lon": 104.0},
            )
        )
    ),
    ("GET", "/vehicles/approvals"): Seeded(Listing(V1 + "/approvals", _b_agency)),
    ("POST", "/vehicles/approvals"): Seeded(Write(("POST", V1 + "/approvals", _approval))),
}

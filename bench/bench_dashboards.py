"""Server time of each role's home dashboard and of the 大屏 on the province-scale world.

For each page and demo user the figure is the page's p95 server time (Django test client, in
process, no network) against the web target of 200 ms, and as a ratio to a baseline
measured in the same run: the bare database work behind the same page — the same rows of
the same scope fetched by hand-written queries (agency ids from an indexed subquery),
nothing computed or rendered. The ratio says what the dashboard adds (scope compilation,
aggregation in Python, indicator calls, template, JSON) over its queries.

    .venv/bin/python bench/bench_dashboards.py [--scale small|province] [--repeat 30]
        [--home DIR]   # reuse a world already loaded there (guanjia demo), skip the load
"""

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
import warnings

TARGET_MS = 200


def p95(samples):
    return statistics.quantiles(samples, n=20)[-1]


def timed(fn, repeat):
    fn()  # warm caches, as a running server would be
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), p95(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="province", choices=["small", "province"])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--home", help="a GUANJIA_HOME holding a loaded demo world")
    args = parser.parse_args()

    warnings.filterwarnings("ignore", message="No directory at")
    os.environ["GUANJIA_HOME"] = args.home or tempfile.mkdtemp(prefix="guanjia-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.utils import timezone

    from guanjia.canteens.models import Canteen, DinerCount, Forecast, WasteRecord
    from guanjia.core.models import Agency, User
    from guanjia.demo.services import load_demo_world
    from guanjia.evaluation.dashboard_panels import last_month, months_up_to
    from guanjia.evaluation.dashboard_trades import SCREEN_WASTE_MONTHS
    from guanjia.evaluation.models import RequirementResult
    from guanjia.standards.models import AgencyFunction, CommentPeriod
    from guanjia.vehicles.models import MisuseCase, Vehicle

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if not Agency.objects.exists():
        load_demo_world(scale=args.scale)
    print(
        f"demo world: {Agency.objects.count():,} agencies, {Vehicle.objects.count():,} "
        f"vehicles, {Canteen.objects.count():,} canteens, "
        f"{RequirementResult.objects.count():,} stored verdicts; ready in "
        f"{time.perf_counter() - started:.1f} s"
    )
    today = timezone.localdate()
    period = last_month(today)
    months = months_up_to(period, 12)
    # The demo stores verdicts for the last complete month of the day it was loaded: make
    # sure the month the dashboards show has them (a world loaded earlier may be older).
    stored = RequirementResult.objects.filter(period=period.label).count()
    print(f"dashboard month {period.label}: {stored:,} stored verdicts")

    def page(username, url):
        client = Client()
        client.force_login(User.objects.get(username=username))

        def get():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return get

    def agencies_of(username):
        """The agencies of the user's data scope, written by hand."""
        user = User.objects.select_related("agency__region").get(username=username)
        scope = max(r.data_scope for r in user.roles.all())
        if username == "admin_demo":
            return Agency.objects.values("pk")
        if scope == 6:  # 本地区及以下: the coordinator's province
            return Agency.objects.filter(region__path__startswith=user.agency.region.path).values(
                "pk"
            )
        if scope == 3:  # own agency only
            return Agency.objects.filter(pk=user.agency_id).values("pk")
        return Agency.objects.filter(path__startswith=user.agency.path).values("pk")

    def bare_compliance(agencies):
        results = RequirementResult.objects.filter(agency__in=agencies)
        list(results.filter(period=period.label).values("agency", "status").annotate(n=Count("pk")))
        list(results.filter(period__in=months).values("period", "status").annotate(n=Count("pk")))

    def bare_fleet(agencies):
        Vehicle.objects.filter(agency__in=agencies).exclude(terminal_key="").count()
        cases = MisuseCase.objects.filter(agency__in=agencies, status="open")
        list(cases.values("rule").annotate(n=Count("pk")))
        list(cases.select_related("agency", "vehicle").order_by("opened_at")[:20])

    def bare_waste(agencies, start):
        canteens = Canteen.objects.filter(agency__in=agencies)
        window = {"canteen__in": canteens, "date__gte": start, "date__lte": today}
        list(
            WasteRecord.objects.filter(**window).values_list("canteen", "date", "meal", "weight_kg")
        )
        list(DinerCount.objects.filter(**window).values_list("canteen", "date", "meal", "diners"))

    def bare_canteen(agencies):
        canteens = Canteen.objects.filter(agency__in=agencies)
        list(Forecast.objects.filter(canteen__in=canteens, date=today).select_related("canteen"))
        bare_waste(agencies, today - dt.timedelta(weeks=12))

    def bare_standards(agencies):
        list(AgencyFunction.objects.filter(agency__in=agencies).prefetch_related("standards"))
        list(
            CommentPeriod.objects.filter(
                standard__agency__in=agencies, opens__lte=today, closes__gte=today
            ).select_related("standard", "version", "group")
        )

    def bare_screen(agencies):
        """Compliance, fitted vehicles per agency, and the months' paired-meal waste as one
        hand-written join (SQLite dialect: the bench runs on the default database)."""
        bare_compliance(agencies)
        list(
            Vehicle.objects.filter(agency__in=agencies)
            .exclude(terminal_key="")
            .values("agency")
            .annotate(n=Count("pk"))
        )
        ids = list(agencies.values_list("pk", flat=True))
        first = dt.date.fromisoformat(months[-SCREEN_WASTE_MONTHS] + "-01").isoformat()
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT substr(d.date, 1, 7) AS m, SUM(w.kg), SUM(d.diners)
                FROM canteens_dinercount d JOIN (
                    SELECT canteen_id, date, meal, SUM(weight_kg) AS kg
                    FROM canteens_wasterecord WHERE date >= %s
                    GROUP BY canteen_id, date, meal) w
                  ON w.canteen_id = d.canteen_id AND w.date = d.date AND w.meal = d.meal
                WHERE d.date >= %s AND d.diners > 0 AND d.canteen_id IN (
                    SELECT id FROM canteens_canteen
                    WHERE agency_id IN ({",".join("%s" for _ in ids)}))
                GROUP BY m""",
                [first, first, *ids],
            )
            cursor.fetchall()

    def baseline(fn, username):
        agencies = agencies_of(username)
        return lambda: fn(agencies)

    cases = [
        ("领导首页", "dazu_leader", "/", bare_compliance),
        ("领导首页", "cq_coordinator", "/", bare_compliance),
        ("领导首页", "sc_coordinator", "/", bare_compliance),
        ("车辆首页", "dazu_fleet", "/", bare_fleet),
        ("食堂首页", "dazu_canteen", "/", bare_canteen),
        ("标准化首页", "dazu_standards", "/", bare_standards),
        ("大屏", "cq_coordinator", "/evaluation/screen/", bare_screen),
        ("大屏", "admin_demo", "/evaluation/screen/", bare_screen),
        ("大屏数据", "admin_demo", "/evaluation/screen/data/", bare_screen),
    ]
    print(f"\npage server time, p95 against the {TARGET_MS} ms web target and the bare queries")
    print(f"{'page':<10} {'user':<15} {'base p95':>9} {'p50':>8} {'p95':>8} {'ratio':>7}")
    worst = 0.0
    for label, username, url, bare in cases:
        _b50, base95 = timed(baseline(bare, username), args.repeat)
        p50, page95 = timed(page(username, url), args.repeat)
        worst = max(worst, page95)
        print(
            f"{label:<10} {username:<15} {base95:>7.1f}ms {p50:>6.1f}ms {page95:>6.1f}ms "
            f"{page95 / base95:>6.2f}×"
        )
    print(f"\nworst page p95 {worst:.1f} ms = {worst / TARGET_MS:.2f}× the {TARGET_MS} ms target")


if __name__ == "__main__":
    main()

"""Server time of the vehicle register and the dispatch board on the province-scale world.

The world holds 30,000 Chongqing and 66,000 Sichuan cars (the seeds' fleet). For each page
and user, the figure is the page's p95 server time (Django test client, in process, no
network) against the web target of 200 ms, and as a ratio to a baseline measured in the
same run: the bare database work behind the same page — the same rows of the same scope,
counted and the first page fetched by a hand-written query, nothing rendered. The ratio
says what the page adds (scope compilation, filters, template) over its query.

    .venv/bin/python bench/bench_vehicles.py [--scale small|province] [--repeat 50]
"""

import argparse
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
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    warnings.filterwarnings("ignore", message="No directory at")
    os.environ["GUANJIA_HOME"] = tempfile.mkdtemp(prefix="guanjia-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from guanjia.core.models import Agency, Region, User
    from guanjia.demo.services import load_demo_world
    from guanjia.vehicles.models import TripRequest, Vehicle

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    load_demo_world(scale=args.scale)
    print(
        f"demo world {args.scale}: {Vehicle.objects.count():,} vehicles, "
        f"{TripRequest.objects.count():,} dispatch orders, "
        f"loaded in {time.perf_counter() - started:.1f} s"
    )

    def page(username, url):
        client = Client()
        client.force_login(User.objects.get(username=username))

        def get():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return get

    # The baseline queries are written the fast way (agency ids from an indexed subquery).
    def region_rows(code):
        path = Region.objects.get(code=code).path
        agencies = Agency.objects.filter(region__path__startswith=path).values("pk")
        return Vehicle.objects.filter(agency__in=agencies)

    def subtree_rows(username):
        agency = User.objects.get(username=username).agency
        agencies = Agency.objects.filter(path__startswith=agency.path).values("pk")
        return Vehicle.objects.filter(agency__in=agencies)

    def bare(rows):
        def get():
            rows.count()
            list(rows.select_related("agency").order_by("plate")[:50])

        return get

    def bare_board(username):
        agency = User.objects.get(username=username).agency
        agencies = Agency.objects.filter(path__startswith=agency.path).values("pk")
        trips = TripRequest.objects.filter(agency__in=agencies)
        today = timezone.localdate()

        def get():
            list(trips.filter(status="requested").select_related("requester", "agency")[:50])
            list(trips.filter(status="approved").select_related("requester", "agency")[:50])
            list(
                trips.filter(
                    status__in=("assigned", "in_progress"), start_at__date=today
                ).select_related("vehicle", "driver", "agency")[:50]
            )

        return get

    vehicles = reverse("vehicle_list")
    board = reverse("dispatch_board")
    cases = [
        ("车辆登记", "admin_demo", vehicles, bare(Vehicle.objects.all())),
        ("车辆登记", "cq_coordinator", vehicles, bare(region_rows("500000"))),
        ("车辆登记", "sc_coordinator", vehicles, bare(region_rows("510000"))),
        ("车辆登记", "dazu_fleet", vehicles, bare(subtree_rows("dazu_fleet"))),
        (
            "车辆登记 ?q=川A1",
            "sc_coordinator",
            vehicles + "?q=川A1",
            bare(region_rows("510000").filter(plate__startswith="川A1")),
        ),
        ("派车调度", "dazu_fleet", board, bare_board("dazu_fleet")),
        ("派车调度", "admin_demo", board, bare_board("admin_demo")),
    ]
    print(f"\npage server time, p95 against the {TARGET_MS} ms web target and the bare query")
    print(f"{'page':<18} {'user':<15} {'base p95':>9} {'p50':>8} {'p95':>8} {'ratio':>7}")
    worst = 0.0
    for label, username, url, baseline in cases:
        _b50, base95 = timed(baseline, args.repeat)
        p50, page95 = timed(page(username, url), args.repeat)
        worst = max(worst, page95)
        print(
            f"{label:<18} {username:<15} {base95:>7.1f}ms {p50:>6.1f}ms {page95:>6.1f}ms "
            f"{page95 / base95:>6.2f}×"
        )
    print(f"\nworst page p95 {worst:.1f} ms = {worst / TARGET_MS:.2f}× the {TARGET_MS} ms target")


if __name__ == "__main__":
    main()

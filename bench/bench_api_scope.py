"""What the data scope costs on the API's list pages, on the demo world.

For each scoped user, the baseline is the platform administrator (superuser: restrict()
adds nothing) asking for the *same rows* with an explicit filter (`?region=` for a
provincial coordinator, `?under=` for a bureau leader); the measured figure is the scoped
user's plain request, where restrict() compiles the roles into SQL. Both are asserted to
return the same count. Server time in process (Django test client, no network), p50/p95
over repeated requests; the figure is the scoped p95 as a ratio to the baseline p95. A
second table gives absolute p95 of other list endpoints against the web target (200 ms).

    .venv/bin/python bench/bench_api_scope.py [--scale small|province] [--repeat 100]
"""

import argparse
import os
import statistics
import tempfile
import time
import warnings


def timed(client, url, repeat):
    client.get(url)  # warm caches, as a running server would be
    samples, count = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (url, response.content[:200])
        count = response.json().get("count") if url.startswith("/api/") else None
    return statistics.median(samples), statistics.quantiles(samples, n=20)[-1], count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="province", choices=["small", "province"])
    parser.add_argument("--repeat", type=int, default=100)
    args = parser.parse_args()

    warnings.filterwarnings("ignore", message="No directory at")
    os.environ["GUANJIA_HOME"] = tempfile.mkdtemp(prefix="guanjia-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from guanjia.core import services
    from guanjia.core.models import Agency, User
    from guanjia.demo.services import load_demo_world

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    load_demo_world(scale=args.scale)
    print(
        f"demo world {args.scale}: {Agency.objects.count()} agencies, "
        f"{User.objects.count()} users, loaded in {time.perf_counter() - started:.1f} s"
    )

    def client_for(username):
        _token, raw = services.create_token(None, User.objects.get(username=username))
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    admin = client_for("admin_demo")
    dazu = User.objects.get(username="dazu_leader").agency
    pairs = [
        ("cq_coordinator", "region=500000"),
        ("sc_coordinator", "region=510000"),
        ("dazu_leader", f"under={dazu.pk}"),
    ]
    print("\nscope cost: scoped request vs the administrator's explicit filter, same rows")
    print(f"{'user':<16} {'rows':>6} {'base p95':>9} {'scoped p95':>11} {'ratio':>7}")
    for username, equivalent in pairs:
        _b50, base95, base_count = timed(
            admin, f"/api/v1/agencies?limit=50&{equivalent}", args.repeat
        )
        _s50, scoped95, count = timed(
            client_for(username), "/api/v1/agencies?limit=50", args.repeat
        )
        assert count == base_count, (username, count, base_count)
        print(
            f"{username:<16} {count:>6} {base95:8.1f}ms {scoped95:10.1f}ms "
            f"{scoped95 / base95:6.2f}x"
        )

    print("\nabsolute server time of list endpoints (target p95 <= 200 ms)")
    print(f"{'endpoint':<40} {'user':<15} {'p50 ms':>7} {'p95 ms':>7}")
    for url in [
        "/api/v1/users?limit=50",
        "/api/v1/groups",
        "/api/v1/audit/changes?limit=50",
        "/api/v1/agencies?limit=50&search=财政",
    ]:
        for username in ("admin_demo", "cq_coordinator"):
            p50, p95, _count = timed(client_for(username), url, args.repeat)
            print(f"{url:<40} {username:<15} {p50:7.1f} {p95:7.1f}")


if __name__ == "__main__":
    main()

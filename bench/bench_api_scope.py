"""What the data scope costs on the API's list pages, on the demo world.

Baseline: the platform administrator (a superuser: restrict() adds no filter).
Measured: the same requests by users whose data scope is compiled into SQL — a provincial
coordinator (6 region and below), a bureau leader (4 agency and below), a group liaison
(2 custom set). Server time in process (Django test client, no network), p50/p95 over
repeated requests. Prints one line per endpoint and user, the figure being p95 as a ratio
to the baseline's p95, and the absolute p95 against the web target (200 ms).

    .venv/bin/python bench/bench_api_scope.py [--scale small|province] [--repeat 60]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="province", choices=["small", "province"])
    parser.add_argument("--repeat", type=int, default=60)
    args = parser.parse_args()

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
    print(f"demo world {args.scale}: {Agency.objects.count()} agencies, "
          f"{User.objects.count()} users, loaded in {time.perf_counter() - started:.1f} s")

    def client_for(username):
        _token, raw = services.create_token(None, User.objects.get(username=username))
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    users = ["admin_demo", "cq_coordinator", "dazu_leader", "group_liaison"]
    clients = {u: client_for(u) for u in users}
    endpoints = ["/api/v1/agencies?limit=50", "/api/v1/agencies?limit=50&search=财政",
                 "/api/v1/users?limit=50", "/api/v1/groups", "/api/v1/audit/changes?limit=50"]
    print(f"{'endpoint':<42} {'user':<15} {'p50 ms':>8} {'p95 ms':>8} {'ratio p95':>10}")
    for url in endpoints:
        base_p95 = None
        for user in users:
            client = clients[user]
            client.get(url)  # warm caches as a running server would be
            samples = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                response = client.get(url)
                samples.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, (url, user, response.content[:200])
            p50 = statistics.median(samples)
            p95 = statistics.quantiles(samples, n=20)[-1]
            base_p95 = base_p95 or p95
            print(f"{url:<42} {user:<15} {p50:8.1f} {p95:8.1f} {p95 / base_p95:9.2f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

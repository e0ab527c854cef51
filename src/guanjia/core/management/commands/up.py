"""`guanjia up`: migrate, first administrator, demo world, then serve everything."""

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from guanjia.core.models import Agency, User

log = logging.getLogger(__name__)
PRUNE_EVERY_SECONDS = 3600
FORECAST_EVERY_SECONDS = 6 * 3600  # canteen forecasts, then requirement verdicts (idempotent)
COMPACT_EVERY_SECONDS = 600  # closed position segments → Parquet (guanjia telemetry compact)
TASK_RESULT_DAYS = 7


class Command(BaseCommand):
    help = (
        "启动平台：迁移数据库、创建管理员、载入演示数据，运行网页/API、JT/T 808 网关、"
        "任务进程（Ctrl-C 停止）"
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--gateway-port",
            type=int,
            default=settings.GATEWAY_PORT,
            help="JT/T 808 网关端口",
        )
        parser.add_argument(
            "--gateway-host", help="JT/T 808 网关监听地址（默认同 --host；终端在外网时用 0.0.0.0）"
        )
        parser.add_argument("--no-demo", action="store_true", help="数据库为空时也不载入演示数据")
        parser.add_argument(
            "--scale", default="small", choices=["small", "province"], help="演示数据规模"
        )
        parser.add_argument("--web-workers", type=int, default=2)

    def handle(self, *args, **opts):
        self._prepare_home()
        self.stdout.write("迁移数据库 …")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self._ensure_admin()
        if not opts["no_demo"] and not Agency.objects.exists():
            from guanjia.demo.services import TqdmProgress, load_demo_world

            self.stdout.write(f"载入演示数据（{opts['scale']}）…")
            progress = TqdmProgress()
            try:
                load_demo_world(scale=opts["scale"], progress=progress)
            finally:
                progress.close()
        os.environ["GUANJIA_GATEWAY_PORT"] = str(opts["gateway_port"])
        return Supervisor(self, opts).run()

    def _prepare_home(self):
        for folder in (settings.MEDIA_ROOT, settings.ARCHIVE_ROOT, settings.HOME / "run"):
            Path(folder).mkdir(parents=True, exist_ok=True)

    def _ensure_admin(self):
        if User.objects.filter(username="admin").exists():
            self.stdout.write("管理员 admin 已存在（初始密码见 GUANJIA_HOME/admin-password.txt）")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", password=password, real_name="平台管理员")
        path = settings.HOME / "admin-password.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(password + "\n")
        os.chmod(path, 0o600)
        self.stdout.write(
            self.style.SUCCESS(
                f"已创建管理员：用户名 admin，密码 {password}（仅显示一次，另存于 {path}）"
            )
        )


class Supervisor:
    """Runs the web server and the task worker as children; stops them all together."""

    def __init__(self, command, opts):
        self.command = command
        self.opts = opts
        self.children: dict[str, subprocess.Popen] = {}
        self.compactor: subprocess.Popen | None = None
        self.stopping = False

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:  # whatever happens here, no child outlives the supervisor
            exit_code = self._start_and_watch()
        finally:
            self._stop_children()
        if exit_code:
            sys.exit(exit_code)

    def _start_and_watch(self) -> int:
        host, port = self.opts["host"], self.opts["port"]
        python = sys.executable
        self.children["web"] = subprocess.Popen(
            [
                python,
                "-m",
                "gunicorn",
                "guanjia.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                str(self.opts["web_workers"]),
                "--threads",
                "4",
                "--graceful-timeout",
                "5",
                "--log-level",
                "warning",
                "--access-logfile",
                str(settings.HOME / "run" / "access.log"),
            ]
        )
        # The worker reports every task it runs; that goes to a log file, not the console.
        worker_log = open(settings.HOME / "run" / "worker.log", "a")
        self.children["worker"] = subprocess.Popen(
            stdout=worker_log,
            stderr=subprocess.STDOUT,
            args=[
                python,
                "-m",
                "guanjia.cli",
                "db_worker",
                "--interval",
                "1",
                "--no-startup-delay",
                "--worker-id",
                f"up-{os.getpid()}",
            ],
        )
        gateway_host = self.opts.get("gateway_host") or host
        gateway_log = open(settings.HOME / "run" / "gateway.log", "a")
        self.children["gateway"] = subprocess.Popen(
            stdout=gateway_log,
            stderr=subprocess.STDOUT,
            args=[
                python,
                "-m",
                "guanjia.cli",
                "gateway",
                "--host",
                gateway_host,
                "--port",
                str(self.opts["gateway_port"]),
            ],
        )
        if os.environ.get("GUANJIA_REDIS_URL"):
            # Scaled out, the gateway only publishes to Redis Streams; the rules run in a
            # worker that consumes them (more can run on other machines).
            self.children["rules"] = subprocess.Popen(
                stdout=gateway_log,
                stderr=subprocess.STDOUT,
                args=[python, "-m", "guanjia.cli", "telemetry", "worker"],
            )
        self.command.stdout.write(
            self.command.style.SUCCESS(
                f"管家 Guanjia 已启动：http://{host}:{port}/ （/healthz 健康检查，/api/v1/docs）"
            )
        )
        self.command.stdout.write(f"JT/T 808 网关：{gateway_host}:{self.opts['gateway_port']}")
        self.command.stdout.flush()
        return self._watch()

    def _watch(self) -> int:
        next_beat = next_prune = 0.0
        next_compact = time.monotonic() + COMPACT_EVERY_SECONDS
        next_forecast = time.monotonic() + 60
        while not self.stopping:
            for name, child in self.children.items():
                if child.poll() is not None:
                    self.command.stderr.write(
                        f"{name} 进程意外退出（{child.returncode}），停止平台"
                    )
                    return 1
            if time.monotonic() >= next_beat:
                self._heartbeat()
                next_beat = time.monotonic() + settings.WORKER_HEARTBEAT_SECONDS
            if time.monotonic() >= next_prune:
                self._prune_task_results()
                next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
            if time.monotonic() >= next_compact:
                self._compact()
                next_compact = time.monotonic() + COMPACT_EVERY_SECONDS
            if time.monotonic() >= next_forecast:
                self._enqueue_forecasts()
                next_forecast = time.monotonic() + FORECAST_EVERY_SECONDS
            time.sleep(0.5)
        return 0

    def _heartbeat(self) -> None:
        """Enqueue the heartbeat task. A database that is away for a moment (restarted,
        connection dropped) makes /healthz report the worker stale; it does not stop us."""
        from guanjia.core.tasks import heartbeat

        close_old_connections()  # drop a connection the database closed meanwhile
        try:
            heartbeat.enqueue()
        except Exception:
            log.exception("heartbeat could not be enqueued")

    def _enqueue_forecasts(self) -> None:
        """The canteens' forecasts, then the verdicts of the standards' requirements (which
        read them), run by the task worker so the supervisor never waits."""
        from guanjia.canteens.tasks import refresh_forecasts
        from guanjia.evaluation.tasks import evaluate_recent

        close_old_connections()
        for work in (refresh_forecasts, evaluate_recent):
            try:
                work.enqueue()
            except Exception:
                log.exception("%s could not be enqueued", work.name)

    def _prune_task_results(self) -> None:
        """Finished task results pile up (a heartbeat every 30 s): keep a week of them."""
        close_old_connections()
        try:
            call_command("prune_db_task_results", min_age_days=TASK_RESULT_DAYS, verbosity=0)
        except Exception:
            log.exception("old task results could not be pruned")

    def _compact(self) -> None:
        """Closed write-ahead segments into the Parquet archive, in a process of its own (one
        at a time) so the supervisor never waits on it."""
        if self.compactor is not None and self.compactor.poll() is None:
            return
        log_file = open(settings.HOME / "run" / "compact.log", "a")
        self.compactor = subprocess.Popen(
            [sys.executable, "-m", "guanjia.cli", "telemetry", "compact"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )

    def _on_signal(self, signum, frame):
        self.stopping = True

    def _stop_children(self) -> None:
        if self.compactor is not None:
            self.children["compact"] = self.compactor
        for child in self.children.values():
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 10
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.command.stdout.write("管家 Guanjia 已停止。")

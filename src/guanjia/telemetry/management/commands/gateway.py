"""`guanjia gateway [--host H] [--port P] [limits …]`: the JT/T 808 gateway (see
guanjia.telemetry.gateway). Runs until SIGTERM/SIGINT; `guanjia up` starts it as a child."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand

from guanjia.telemetry import gateway, limits, rules


class Command(BaseCommand):
    help = "JT/T 808 网关：终端注册、鉴权、心跳、位置上报（落盘后应答）"

    def add_arguments(self, parser):
        parser.add_argument("--host", default="0.0.0.0")
        parser.add_argument("--port", type=int, default=settings.GATEWAY_PORT)
        parser.add_argument("--name", help="预写段目录名（默认 gw-<端口>）")
        parser.add_argument("--max-connections", type=int, help="最大连接数")
        parser.add_argument("--max-frame", type=int, help="单帧最大字节数")
        parser.add_argument("--frames-per-second", type=float, help="每终端每秒帧数上限")
        parser.add_argument("--idle-timeout", type=float, help="无完整帧的空闲断开秒数")
        parser.add_argument("--flush-ms", type=float, help="组提交间隔（毫秒）")
        parser.add_argument(
            "--no-rules",
            action="store_true",
            help="不在本进程运行违规规则（扩展部署时由 guanjia telemetry worker 运行）",
        )

    def handle(self, *args, **opts):
        lim = limits.load(
            max_connections=opts["max_connections"],
            max_frame=opts["max_frame"],
            frames_per_second=opts["frames_per_second"],
            idle_timeout_s=opts["idle_timeout"],
            flush_interval_s=None if opts["flush_ms"] is None else opts["flush_ms"] / 1000,
        )
        # One machine: the rule engine is a sink of this process. Scaled out (Redis), the
        # gateway only publishes and `guanjia telemetry worker` processes run the rules.
        if not opts["no_rules"] and not os.environ.get("GUANJIA_REDIS_URL"):
            rules.install()
        gw = gateway.Gateway(host=opts["host"], port=opts["port"], limits=lim, name=opts["name"])

        def ready(g):
            self.stdout.write(f"JT/T 808 网关已启动：{g.host}:{g.port}（预写段 {g.wal.dir}）")
            self.stdout.flush()

        gateway.serve(gw, ready=ready)
        self.stdout.write("JT/T 808 网关已停止。")

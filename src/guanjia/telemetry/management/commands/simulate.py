"""`guanjia simulate --terminals N --interval S --duration T --gateway HOST:PORT [--json]`:
a fleet of simulated JT/T 808 terminals over real TCP (see telemetry/simulator.py)."""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from guanjia.telemetry import simulator as sim

CHINA = timezone(timedelta(hours=8))


def register_specs(n: int, share: float) -> list[sim.TerminalSpec]:
    """Up to `n` vehicles of the register that have a terminal, with their garage and the
    province of their agency; a third report as 2019 terminals (all whose number needs
    more than 12 digits)."""
    from guanjia.telemetry.geo import province_of
    from guanjia.vehicles.models import Vehicle

    rows = (
        Vehicle.objects.exclude(terminal_key="")
        .select_related("agency__region", "garage")
        .order_by("id")[:n]
    )
    specs = []
    for i, v in enumerate(rows):
        region = getattr(v.agency, "region", None)
        province = province_of(region.code if region else None) or "510000"
        g = v.garage
        specs.append(
            sim.TerminalSpec(
                number=v.terminal_key,
                edition=2019 if len(v.terminal_key) > 12 or i % 3 == 1 else 2013,
                province=province,
                garage=(g.lat, g.lon, float(g.radius_m)) if g else None,
                plate=v.plate,
            )
        )
    sim.assign_misuse(specs, share)
    return specs


def parse_start(text: str | None) -> float:
    if not text:
        return 0.0
    try:
        dt = datetime.fromisoformat(text)
    except ValueError as e:
        raise CommandError(f"--start 不是 ISO 8601 时间：{text}") from e
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=CHINA)
    return dt.timestamp()


class Command(BaseCommand):
    help = "模拟 JT/T 808 车载终端：注册、鉴权、按路线上报位置（含埋设的违规场景），统计应答与时延"

    def add_arguments(self, parser):
        parser.add_argument("--terminals", type=int, default=10, help="终端数")
        parser.add_argument("--interval", type=float, default=30.0, help="上报间隔（GNSS 秒）")
        parser.add_argument("--duration", type=float, default=600.0, help="时长（GNSS 秒）")
        parser.add_argument("--gateway", default="127.0.0.1:7808", help="网关 HOST:PORT")
        parser.add_argument(
            "--speedup", type=float, default=1.0, help="时间压缩倍数：GNSS 时间比墙钟快 K 倍"
        )
        parser.add_argument("--seed", type=int, default=808, help="随机种子（路线与违规场景）")
        parser.add_argument("--start", help="第一条位置的 GNSS 时间（ISO 8601，默认现在）")
        parser.add_argument(
            "--from-register",
            action="store_true",
            help="使用车辆登记中已绑定终端的车辆（否则生成终端号）",
        )
        parser.add_argument(
            "--misuse-share", type=float, default=0.25, help="埋设违规场景的终端比例"
        )
        parser.add_argument("--truth", help="把场景真值（JSON 列表）写入该文件")
        parser.add_argument("--timeout", type=float, default=10.0, help="连接与应答超时（秒）")
        parser.add_argument("--ramp", type=float, default=5.0, help="建立全部连接的时间（秒）")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 文档")

    def handle(self, *args, **o):
        host, _sep, port = o["gateway"].rpartition(":")
        if not host or not port.isdigit():
            raise CommandError("--gateway 应为 HOST:PORT")
        if o["terminals"] < 1 or o["interval"] <= 0 or o["duration"] <= 0 or o["speedup"] <= 0:
            raise CommandError("--terminals、--interval、--duration、--speedup 须为正数")
        if o["from_register"]:
            specs = register_specs(o["terminals"], o["misuse_share"])
            if not specs:
                raise CommandError("车辆登记中没有绑定终端的车辆")
        else:
            specs = sim.generated_specs(o["terminals"], o["seed"], o["misuse_share"])
        cfg = sim.Config(
            host=host,
            port=int(port),
            n=len(specs),
            interval=o["interval"],
            duration=o["duration"],
            speedup=o["speedup"],
            seed=o["seed"],
            start=parse_start(o["start"]),
            timeout=o["timeout"],
            ramp_s=o["ramp"],
        )
        result = sim.simulate(specs, cfg)
        if o["truth"]:
            Path(o["truth"]).write_text(
                json.dumps(result["ground_truth"], ensure_ascii=False, indent=1), encoding="utf-8"
            )
        if o["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        lat = result["latency_ms"]
        self.stdout.write(
            f"终端 {result['terminals']}（连接 {result['connected']}，"
            f"鉴权 {result['authenticated']}，拒绝 {result['rejected']}）\n"
            f"位置 发送 {result['sent']}，应答 {result['acknowledged']}，"
            f"补报批次 {result['batches']}，心跳 {result['heartbeats']}\n"
            f"时延 p50 {lat['p50']} ms，p95 {lat['p95']} ms，p99 {lat['p99']} ms\n"
            f"错误 {result['error_count']} {result['errors'] or ''}\n"
            f"埋设场景 {result['planted']}，真值 {len(result['ground_truth'])} 条；"
            f"用时 {result['wall_s']} s，{result['positions_per_s']} 位置/秒"
        )

"""`guanjia telemetry worker [--name N] [--lease-s S] [--no-rules] [--sink module:attr] [--json]`:
a rule worker of the scaled-out deployment (GUANJIA_REDIS_URL). It consumes the position
streams the gateways publish in the consumer group "rules" (a share of the partitions, see
telemetry/streams.py), runs the misuse-rule engine on each batch (cases written by the
engine's writer thread) and acknowledges the batch afterwards. Runs until SIGTERM/SIGINT,
then hands its partitions back and prints what it handled.

`--sink module:attr` adds a pipeline sink (a callable taking the worker's name and returning
the sink), e.g. for an export or a test recorder.

With --json: {"name", "partitions", "entries", "positions", "claimed", "acquired",
"released", "rules": {engine stats}}.
"""

import importlib
import signal
import threading

SUMMARY = "规则工作进程：从 Redis Streams 按终端分区消费定位并运行监控规则（横向扩展）"


def add_arguments(parser):
    parser.add_argument("--name", help="消费者名称（默认 主机名-进程号）")
    parser.add_argument("--lease-s", type=float, default=5.0, help="分区租约秒数（默认 5）")
    parser.add_argument("--count", type=int, default=64, help="每次读取的条目数上限")
    parser.add_argument("--no-rules", action="store_true", help="不运行监控规则（仅附加的接收器）")
    parser.add_argument(
        "--sink", action="append", default=[], help="附加接收器 模块:工厂（以消费者名称调用）"
    )
    parser.add_argument("--redis-url", help="Redis 地址（默认 GUANJIA_REDIS_URL）")


def _load_sink(spec: str, name: str):
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise ValueError(f"接收器应写作 模块:工厂：{spec}")
    return getattr(importlib.import_module(module_name), attr)(name)


def run(options) -> dict:
    from .. import pipeline, rules, streams

    client = streams.connect(options.get("redis_url"))
    worker = streams.Worker(
        client, name=options.get("name"), lease_s=options["lease_s"], count=options["count"]
    )
    for spec in options.get("sink") or []:
        pipeline.register(f"sink:{spec}", _load_sink(spec, worker.name))
    engine = None if options.get("no_rules") else rules.install(start_writer=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_a: stop.set())
    try:
        result = worker.run(stop)
    finally:
        if engine is not None:
            engine.stop_writer()  # writes what is pending
        client.close()
    if engine is not None:
        result["rules"] = dict(engine.stats)
    return result


def render(result: dict) -> str:
    return (
        f"规则工作进程 {result['name']} 已停止：处理 {result['entries']} 个条目、"
        f"{result['positions']} 条定位（接管待确认条目 {result['claimed']} 个）"
    )

"""`guanjia demo --scale small|province [--seed N] [--json]`: load the demo world."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from guanjia.demo.services import (
    DEFAULT_SEED,
    DEMO_PASSWORD,
    SCALES,
    DemoWorldExists,
    TqdmProgress,
    load_demo_world,
)


def parse_size(text: str) -> tuple[str, int | tuple[int, int]]:
    """`served_agencies=5` or `served_agencies=3-5`."""
    key, sep, value = text.partition("=")
    try:
        if not sep or not key:
            raise ValueError
        low, dash, high = value.partition("-")
        return key.strip(), (int(low), int(high)) if dash else int(low)
    except ValueError:
        raise CommandError(f"--size 应为 名称=数量 或 名称=最小-最大，而不是 {text!r}") from None


class Command(BaseCommand):
    help = (
        "载入川渝演示数据：68 家机关事务部门、5 个协作小组、服务单位、角色与演示账号"
        "（仅限空数据库）"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=SCALES,
            default="small",
            help="small：每局 3–5 个服务单位；province：每局 25–40 个",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"随机种子，相同种子生成相同数据（默认 {DEFAULT_SEED}）",
        )
        parser.add_argument(
            "--size",
            action="append",
            default=[],
            metavar="KEY=N|A-B",
            help="覆盖某项规模，如 served_agencies=5-8、bureau_users=2（可重复）",
        )
        parser.add_argument("--json", action="store_true", help="在标准输出打印一个 JSON 文档")
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")

    def handle(self, *args, **opts):
        sizes = dict(parse_size(s) for s in opts["size"])
        err = getattr(self.stderr, "_out", sys.stderr)
        show = not opts["no_progress"] and hasattr(err, "isatty") and err.isatty()
        progress = TqdmProgress(file=err) if show else None
        try:
            result = load_demo_world(opts["scale"], opts["seed"], progress, sizes=sizes)
        except DemoWorldExists as e:
            raise CommandError(str(e)) from None
        finally:
            if progress is not None:
                progress.close()
        if opts["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        counts = "，".join(f"{k} {v}" for k, v in result["counts"].items())
        self.stdout.write(
            self.style.SUCCESS(
                f"演示数据已载入（规模 {result['scale']}，种子 {result['seed']}，"
                f"用时 {result['seconds']} 秒）：{counts}"
            )
        )
        self.stdout.write(
            f"演示账号（如 admin_demo、cq_coordinator、dazu_leader）的密码均为 {DEMO_PASSWORD}，"
            "完整列表见 src/guanjia/demo/LOGINS.md"
        )

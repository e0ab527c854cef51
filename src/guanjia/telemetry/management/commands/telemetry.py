"""`guanjia telemetry <subcommand> … [--json]`: the modules of guanjia.telemetry.cli (see
guanjia.core.subcommands for the module contract)."""

from guanjia.core.subcommands import PackageCommand
from guanjia.telemetry import cli


class Command(PackageCommand):
    help = "车辆实时监控：轨迹查询、归档压缩与保留、规则与行程"
    cli_package = cli

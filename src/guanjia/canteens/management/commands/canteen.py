"""`guanjia canteen <subcommand> … [--json]`: the modules of guanjia.canteens.cli (see
guanjia.core.subcommands for the module contract)."""

from guanjia.canteens import cli
from guanjia.core.subcommands import PackageCommand


class Command(PackageCommand):
    help = "机关食堂：就餐人数导入、预测与回测、称重与光盘记录、评估"
    cli_package = cli

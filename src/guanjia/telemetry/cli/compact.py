"""`guanjia telemetry compact [--retention-days N] [--json]`: closed write-ahead segments
into Parquet (by China date and province), then drop date partitions older than the
retention (default: setting TELEMETRY_RETENTION_DAYS, 365).

With --json: {"segments", "recovered", "records", "files", "retention_days",
"dropped_partitions": [dates]}.
"""

from .. import archive

SUMMARY = "压缩定位预写段为 Parquet 归档，并按保留期删除旧分区"


def add_arguments(parser):
    parser.add_argument("--retention-days", type=int, help="保留天数（0 表示不删除）")


def run(options) -> dict:
    days = options.get("retention_days")
    if days is not None and days < 0:
        raise ValueError("保留天数不能为负数")
    return archive.compact(retention_days=days)


def render(result: dict) -> str:
    text = (
        f"压缩 {result['segments']} 个预写段，{result['records']} 条定位，"
        f"写入 {result['files']} 个 Parquet 文件"
    )
    if result["dropped_partitions"]:
        text += (
            f"；按保留期 {result['retention_days']} 天删除 {len(result['dropped_partitions'])} 天"
        )
    return text

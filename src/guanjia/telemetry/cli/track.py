"""`guanjia telemetry track --terminal T [--from ISO --to ISO] [--json]`: a terminal's
positions from the archive and the not-yet-compacted write-ahead segments.

The terminal number may be given with any zero-padding (12-digit 2013 or 20-digit 2019
form, or the register's key). `--from`/`--to` are ISO 8601, both inclusive; a time without
an offset is China time. With --json:
{"positions": [{"time", "lat", "lon", "speed_kmh", "direction", "altitude_m", "alarm",
"status", "mileage_km"}]}, ordered by GNSS time, `time` ISO 8601 with +08:00.
"""

from .. import archive

SUMMARY = "终端轨迹（归档与未压缩的预写段）"


def add_arguments(parser):
    parser.add_argument("--terminal", required=True, help="终端号（前导零可有可无）")
    parser.add_argument("--from", dest="start", help="起始时间（ISO 8601，含）")
    parser.add_argument("--to", dest="end", help="结束时间（ISO 8601，含）")


def run(options) -> dict:
    start = archive.parse_time(options.get("start"))
    end = archive.parse_time(options.get("end"))
    if start is not None and end is not None and end < start:
        raise ValueError("结束时间早于起始时间")
    positions = archive.track(options["terminal"], start, None if end is None else end + 1)
    return {"positions": archive.track_rows(positions)}


def render(result: dict) -> str:
    rows = result["positions"]
    lines = [f"{len(rows)} 个定位点"]
    for r in rows:
        lines.append(
            f"{r['time']}  {r['lat']:.6f},{r['lon']:.6f}  {r['speed_kmh']:.1f} km/h  "
            f"方向 {r['direction']}  报警 {r['alarm']:#x}  状态 {r['status']:#x}"
        )
    return "\n".join(lines)

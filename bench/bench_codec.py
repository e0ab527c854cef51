"""Decode throughput of JT/T 808 0x0200 location frames on one core.

Measured: a stream of realistic 0x0200 frames (basic block + mileage, fuel, signal,
satellites; 2013 and 2019 headers mixed; a share of frames needing escapes) cut by the
FrameSplitter, fully decoded (`decode_frame`: check code, header, body, BCD time, items)
and turned into the shared Position (`to_position`). Baseline in the same run: the same
stream through the splitter (delimiting + unescaping) and the XOR check only, which is the
least any decoder must do. The ratio says what header and body decoding add.

    .venv/bin/python bench/bench_codec.py [--frames 200000] [--repeat 3]

Target: > 50,000 decodes/s on one core.
"""

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from guanjia.telemetry.jt808 import (
    FrameSplitter,
    Location,
    checksum,
    decode_frame,
    encode_message,
    to_position,
)

TARGET = 50_000


def make_stream(n: int, seed: int = 1) -> tuple[list[bytes], int]:
    rnd = random.Random(seed)
    t0 = 1_780_000_000
    chunks = []
    for i in range(n):
        body = Location(
            alarm=0,
            status=0x3 if rnd.random() < 0.8 else 0x2,
            lat_e6=rnd.randint(28_500_000, 32_000_000),
            lon_e6=rnd.randint(102_000_000, 108_000_000),
            altitude=rnd.randint(200, 2000),
            speed=rnd.randint(0, 1200),
            direction=rnd.randint(0, 359),
            time=t0 + i * 30,
            mileage=rnd.randint(0, 5_000_000),
            fuel=rnd.randint(0, 800),
            signal=rnd.randint(0, 31),
            satellites=rnd.randint(4, 20),
        )
        version = 1 if i % 3 == 0 else None
        term = f"{13800000000 + i % 1000:0{20 if version else 12}d}"
        chunks.append(encode_message(0x0200, term, i & 0xFFFF, body, version=version))
    escaped = sum(1 for c in chunks if 0x7D in c[1:-1])
    # one TCP read every ~16 frames, as a busy connection would deliver them
    reads = [b"".join(chunks[i : i + 16]) for i in range(0, n, 16)]
    return reads, escaped


def baseline(reads: list[bytes]) -> int:
    sp = FrameSplitter()
    ok = 0
    for data in reads:
        for f in sp.feed(data):
            if checksum(f[:-1]) == f[-1]:
                ok += 1
    return ok


def full(reads: list[bytes]) -> int:
    sp = FrameSplitter()
    n = 0
    now = time.time()
    for data in reads:
        for f in sp.feed(data):
            m = decode_frame(f)
            to_position(m.terminal_key, m.body, now)
            n += 1
    return n


def best_rate(fn, reads, frames, repeat):
    best = 0.0
    for _ in range(repeat):
        t = time.perf_counter()
        got = fn(reads)
        dt = time.perf_counter() - t
        assert got == frames, (got, frames)
        best = max(best, frames / dt)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    reads, escaped = make_stream(a.frames)
    size = sum(map(len, reads)) / a.frames
    print(
        f"{a.frames:,} 0x0200 frames, {size:.0f} bytes each on average, "
        f"{escaped / a.frames:.1%} with escapes, Python {sys.version.split()[0]}"
    )
    base = best_rate(baseline, reads, a.frames, a.repeat)
    dec = best_rate(full, reads, a.frames, a.repeat)
    print(f"baseline (split + unescape + check code): {base:12,.0f} frames/s")
    print(
        f"full decode + Position:                   {dec:12,.0f} frames/s "
        f"({dec / base:.0%} of baseline, {1e6 / dec:.1f} µs per frame)"
    )
    print(f"target > {TARGET:,}/s: {'met' if dec > TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()

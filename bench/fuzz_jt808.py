"""Fuzz the JT/T 808 splitter, decoder and reassembler with 1,000,000 frames.

Frames are mutations of valid frames (byte flips, inserts, deletions, truncations, a wrong
length or version bit, escapes broken, frames glued together) and plain random bytes, fed
in random-sized reads through one FrameSplitter per simulated connection, each frame
decoded strictly and leniently, sub-packages through a Reassembler, positions extracted.
Anything but FrameError is a crash; the slowest single feed+decode is reported so a hang
(or a quadratic blow-up) shows. Exit status 1 on any crash.

    .venv/bin/python bench/fuzz_jt808.py [--frames 1000000] [--seed 808]
"""

import argparse
import random
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from guanjia.telemetry.jt808 import Authentication as Auth
from guanjia.telemetry.jt808 import (
    FrameError,
    FrameSplitter,
    GeneralResponse,
    Location,
    LocationBatch,
    Reassembler,
    Register,
    RegisterResponse,
    decode_frame,
    encode_message,
    positions_of,
    split_message,
)


def seeds() -> list[bytes]:
    loc = Location(
        1,
        3,
        30_657_000,
        104_066_000,
        500,
        600,
        90,
        1_780_000_000,
        1234,
        56,
        7,
        0x7E7D,
        0x7D,
        0x7E,
        ((0xE1, b"\x7e\x7d\x00"),),
    )
    out = []
    for v in (None, 1):
        w = 12 if v is None else 20
        t = "7".rjust(w, "0")
        out += [
            encode_message(0x0200, t, 0x7E7D, loc, version=v),
            encode_message(
                0x0704, t, 1, LocationBatch(1, (loc, loc._replace(time=None))), version=v
            ),
            encode_message(
                0x0100, t, 2, Register(51, 100, "GJ", "M1", "T1", 1, "川A12345"), version=v
            ),
            encode_message(
                0x0102,
                t,
                3,
                Auth("code", "123456789012345", "1.0") if v else Auth("code"),
                version=v,
            ),
            encode_message(0x8100, t, 4, RegisterResponse(2, 0, "abc"), version=v),
            encode_message(0x0001, t, 5, GeneralResponse(1, 0x8103, 0), version=v),
            encode_message(0x8001, t, 6, GeneralResponse(1, 0x0200, 0), version=v),
            encode_message(0x0002, t, 7, b"", version=v),
            *split_message(0x0200, t, 8, loc, version=v, max_body=17),
        ]
    return out


def mutate(rnd: random.Random, frame: bytes) -> bytes:
    f = bytearray(frame)
    for _ in range(rnd.randint(1, 4)):
        op = rnd.randrange(8)
        i = rnd.randrange(len(f) + 1) if f else 0
        if op == 0 and f:
            f[min(i, len(f) - 1)] = rnd.randrange(256)
        elif op == 1:
            f[i:i] = rnd.randbytes(rnd.randint(1, 6))
        elif op == 2 and f:
            del f[i : i + rnd.randint(1, 6)]
        elif op == 3:
            f = f[: max(i, 1)]
        elif op == 4 and len(f) > 5:  # body length / flags word
            f[3] = rnd.randrange(256)
            f[4] = rnd.randrange(256)
        elif op == 5:
            f[i:i] = rnd.choice((b"\x7d", b"\x7d\x03", b"\x7e", b"\x7e\x7e"))
        elif op == 6 and len(f) > 3:
            f[3] ^= 0x40  # flip the 2019 version bit
        else:
            f[i:i] = rnd.randbytes(rnd.randint(1, 3)) * rnd.choice((2, 30, 300, 1500))
    return bytes(f)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=808)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    base = seeds()
    crashes = 0
    stats = {"decoded": 0, "frame_errors": 0, "too_large": 0, "positions": 0}
    slowest = 0.0
    sp = FrameSplitter()
    r = Reassembler(max_packages=64, max_bytes=16_384, max_pending=4)
    t_start = time.perf_counter()
    pending = bytearray()
    for n in range(a.frames):
        if n % 50 == 0:  # a new connection now and then
            sp, r = FrameSplitter(), Reassembler(max_packages=64, max_bytes=16_384, max_pending=4)
        k = rnd.random()
        if k < 0.15:
            data = rnd.randbytes(rnd.randint(0, 120))
        elif k < 0.25:
            data = rnd.choice(base)  # some valid frames keep state machines busy
        else:
            data = mutate(rnd, rnd.choice(base))
        pending += data
        if rnd.random() < 0.5:
            continue  # glue this frame to the next read
        cut = rnd.randint(0, len(pending))
        reads = (bytes(pending[:cut]), bytes(pending[cut:]))
        pending.clear()
        t0 = time.perf_counter()
        try:
            for chunk in reads:
                try:
                    frames = sp.feed(chunk)
                except FrameError:
                    stats["too_large"] += 1
                    sp = FrameSplitter()
                    continue
                for f in frames:
                    for strict in (True, False):
                        try:
                            m = r.add(decode_frame(f, strict=strict), now=n / 1000)
                            stats["decoded"] += 1
                            if m is not None:
                                stats["positions"] += len(positions_of(m, 0.0))
                        except FrameError:
                            stats["frame_errors"] += 1
        except Exception:
            crashes += 1
            if crashes <= 5:
                print("CRASH on", reads[0].hex() + reads[1].hex(), file=sys.stderr)
                traceback.print_exc()
        slowest = max(slowest, time.perf_counter() - t0)
    dt = time.perf_counter() - t_start
    print(
        f"{a.frames:,} fuzzed frames in {dt:.1f} s: {a.frames / dt:,.0f} frames/s (seed {a.seed})"
    )
    print(", ".join(f"{k} {v:,}" for k, v in stats.items()))
    print(f"slowest read: {slowest * 1000:.2f} ms")
    print(f"{crashes} crashes")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())

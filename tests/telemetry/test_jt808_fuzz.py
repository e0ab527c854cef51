"""Arbitrary bytes and mutated valid frames never raise anything but FrameError and never
hang (hypothesis' per-example deadline catches a hang). The 1,000,000-frame run is
bench/fuzz_jt808.py."""

from hypothesis import given, settings
from hypothesis import strategies as st

from guanjia.telemetry.jt808 import (
    FrameError,
    FrameSplitter,
    Reassembler,
    decode_frame,
    decode_wire,
    positions_of,
)

SEEDS = [
    bytes.fromhex(h)
    for h in (
        # F7 (SmallChi README), F12 (Traccar test), F4/F5 2019 (yezhihao JT808.txt), F14-like
        "7E020000261234567890120 07D02000000010000000200BA7F0E07E4F11C0028003C0000181015101010"
        "0104000000640202007D01137E".replace(" ", ""),
        "7e0704402d0100000866496077582164881d00010000280000000000000007 01a00192091f2a4700160000"
        "0002260509164227010400002582300100310 10e507e".replace(" ", ""),
        "7e010240500100000000017299841738ffff2c706d59477a47756b4f384b345a356c70494f54673864716233"
        "65707259614842625853504c7464627947383d31323334353637383930313233343500000000000000000000"
        "00000000332e372e3135347e",
        "7e0100002e1234567890127fff001f00730000797a68000000000000007777772e6a74743830382e636e3736"
        "353433323101b2e241383838383838227e",
        "7e010423f001127540038104d100020001" + "41" * 16 + "c17e",
    )
]


def run(data: bytes, reassembler: Reassembler | None = None) -> None:
    sp = FrameSplitter(max_frame=600)
    r = reassembler or Reassembler(max_packages=8, max_bytes=4096)
    try:
        frames = sp.feed(data)
    except FrameError:
        return
    for f in frames:
        for strict in (True, False):
            try:
                m = decode_frame(f, strict=strict)
                m = r.add(m, now=0.0)
                if m is not None:
                    positions_of(m, 0.0)
            except FrameError:
                pass
    try:
        decode_wire(data)
    except FrameError:
        pass


@settings(max_examples=2000)
@given(st.binary(max_size=400))
def test_arbitrary_bytes(data):
    run(b"\x7e" + data + b"\x7e")
    run(data)


@st.composite
def mutated(draw):
    frame = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.integers(0, 3))
        i = draw(st.integers(0, len(frame)))
        if op == 0 and frame:
            frame[min(i, len(frame) - 1)] = draw(st.integers(0, 255))
        elif op == 1:
            frame[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == 2 and frame:
            del frame[i : i + draw(st.integers(1, 8))]
        else:
            frame = frame[:i]
    return bytes(frame)


@settings(max_examples=3000)
@given(mutated())
def test_mutated_frames(data):
    run(data)


@settings(max_examples=500)
@given(st.lists(mutated(), max_size=6))
def test_mutated_streams_share_state(frames):
    r = Reassembler(max_packages=8, max_bytes=4096)
    run(b"".join(frames), r)

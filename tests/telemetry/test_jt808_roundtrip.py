"""encode → decode is the identity for every message type, both editions, with 0x7e/0x7d
anywhere (serials, coordinates, check code, text); splitter and reassembler behave."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guanjia.telemetry.jt808 import (
    Authentication,
    FrameError,
    FrameSplitter,
    FrameTooLarge,
    GeneralResponse,
    Location,
    LocationBatch,
    Message,
    Reassembler,
    Register,
    RegisterResponse,
    checksum,
    decode_frame,
    decode_wire,
    encode,
    escape,
    split_message,
    unescape,
)

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
# Bytes rich in the two special values, so escaping is exercised everywhere.
spicy = st.lists(st.sampled_from([0x7E, 0x7D, 0x01, 0x02, 0x00]) | u8, max_size=40).map(bytes)
ascii_text = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=12)
plate = st.text(st.sampled_from("川渝苏ABCDEFG0123456789"), min_size=1, max_size=8)
# 2000-01-01 .. 2099-12-31 in GMT+8, or no fix.
gnss_time = st.none() | st.integers(946656000, 4102415999)
UNKNOWN_ITEM = st.integers(0, 255).filter(lambda i: i not in (0x01, 0x02, 0x03, 0x25, 0x30, 0x31))


def opt(s):
    return st.none() | s


locations = st.builds(
    Location,
    alarm=u32,
    status=u32,
    lat_e6=u32,
    lon_e6=u32,
    altitude=u16,
    speed=u16,
    direction=u16,
    time=gnss_time,
    mileage=opt(u32),
    fuel=opt(u16),
    recorder_speed=opt(u16),
    ext_signal=opt(u32),
    signal=opt(u8),
    satellites=opt(u8),
    extras=st.lists(st.tuples(UNKNOWN_ITEM, spicy), max_size=3).map(tuple),
    trailer=st.sampled_from([b"", b"\x7e", b"\xe1\x05\x7d"]),
)


def bodies_for(version):
    reg = st.builds(
        Register,
        province=u16,
        city=u16,
        maker=ascii_text.map(lambda s: s[:5]),
        model=ascii_text,
        terminal_id=ascii_text.map(lambda s: s[:7]),
        plate_color=u8,
        plate=plate,
    )
    if version is None:
        auth = st.builds(
            Authentication, auth_code=ascii_text, imei=st.none(), software_version=st.none()
        )
    else:
        auth = st.builds(
            Authentication,
            auth_code=ascii_text,
            imei=st.text("0123456789", min_size=15, max_size=15),
            software_version=ascii_text,
        )
    return st.one_of(
        st.tuples(st.sampled_from([0x0001, 0x8001]), st.builds(GeneralResponse, u16, u16, u8)),
        st.tuples(st.sampled_from([0x0002, 0x0003]), st.just(b"")),
        st.tuples(st.just(0x0100), reg),
        st.tuples(
            st.just(0x8100),
            st.builds(RegisterResponse, u16, st.just(0), ascii_text)
            | st.builds(RegisterResponse, u16, st.integers(1, 4), st.none()),
        ),
        st.tuples(st.just(0x0102), auth),
        st.tuples(st.just(0x0200), locations),
        st.tuples(
            st.just(0x0704),
            st.builds(
                LocationBatch,
                st.integers(0, 1),
                st.lists(locations, min_size=1, max_size=3).map(tuple),
            ),
        ),
        st.tuples(st.sampled_from([0x0800, 0x0900, 0xE001]), spicy),
    )


@st.composite
def messages(draw):
    version = draw(st.sampled_from([None, 1]))
    width = 12 if version is None else 20
    terminal = draw(st.text("0123456789", min_size=width, max_size=width))
    msg_id, body = draw(bodies_for(version))
    return Message(msg_id, terminal, draw(u16), body, version)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_encode_decode_is_identity(msg):
    wire = encode(msg)
    assert wire[0] == wire[-1] == 0x7E and 0x7E not in wire[1:-1]
    assert decode_wire(wire) == msg


@settings(max_examples=200)
@given(st.lists(messages(), min_size=1, max_size=5), st.integers(1, 7), spicy)
def test_stream_of_frames_split_anywhere(msgs, step, garbage):
    data = garbage.replace(b"\x7e", b"") + b"".join(encode(m) for m in msgs)
    sp = FrameSplitter()
    frames = [f for i in range(0, len(data), step) for f in sp.feed(data[i : i + step])]
    decoded = []
    for f in frames:
        try:
            decoded.append(decode_frame(f))
        except FrameError:  # only the leading garbage may fail, never a real frame
            pass
    assert decoded == msgs


@given(st.binary(max_size=64))
def test_escape_unescape(data):
    esc = escape(data)
    assert 0x7E not in esc
    assert unescape(esc) == data


def test_spec_escape_example_and_checksum():
    # JT/T 808-2013 §4.4.2: 30 7e 08 7d 55 goes on the wire as 30 7d 02 08 7d 01 55.
    assert escape(bytes.fromhex("307e087d55")) == bytes.fromhex("307d02087d0155")
    assert checksum(b"") == 0 and checksum(b"\x01\x02\x04") == 7
    with pytest.raises(FrameError):
        unescape(b"\x30\x7d\x03")
    with pytest.raises(FrameError):
        unescape(b"\x30\x7d")


@settings(max_examples=100)
@given(messages().filter(lambda m: m.msg_id in (0x0200, 0x0704, 0x0100)), st.integers(1, 60))
def test_split_and_reassemble(msg, size):
    frames = split_message(
        msg.msg_id, msg.terminal, msg.serial, msg.body, version=msg.version, max_body=size
    )
    r = Reassembler(max_packages=10_000)
    pieces = [decode_wire(f) for f in frames]
    out = [r.add(p) for p in reversed(pieces)]
    assert out[:-1] == [None] * (len(pieces) - 1)
    assert out[-1] == msg


def test_splitter_bounds_and_garbage():
    sp = FrameSplitter(max_frame=100)
    assert sp.feed(b"no delimiter at all" * 100) == []  # garbage before sync: discarded
    assert sp.pending == 0
    assert sp.feed(b"\x7e" + b"\x01" * 50) == []
    with pytest.raises(FrameTooLarge):
        sp.feed(b"\x01" * 60)
    assert sp.pending == 0
    sp = FrameSplitter()
    assert sp.feed(b"\x7e\x7e\x7e\x01\x02\x7e\x7e\x7d\x05" + b"\x00" * 20 + b"\x7e") == []
    assert sp.dropped == 2  # a too-short candidate and a bad escape


def test_reassembler_limits():
    now = [0.0]
    r = Reassembler(max_packages=4, max_bytes=100, max_pending=2, timeout=10, clock=lambda: now[0])

    def piece(total, index, body=b"x" * 10, term="1", mid=0x0104):
        return Message(mid, term.rjust(12, "0"), index, body, None, 0, (total, index))

    with pytest.raises(FrameError):
        r.add(piece(5, 1))  # more packages than allowed
    with pytest.raises(FrameError):
        r.add(piece(3, 4))  # index beyond total
    with pytest.raises(FrameError):
        r.add(piece(3, 0))
    assert r.add(piece(3, 1)) is None
    with pytest.raises(FrameError):
        r.add(piece(3, 2, b"y" * 95))  # total size over max_bytes: message dropped
    assert len(r) == 0
    r.add(piece(3, 1, term="1"))
    r.add(piece(3, 1, term="2"))
    r.add(piece(3, 1, term="3"))  # third pending message evicts the oldest
    assert len(r) == 2 and r.evicted == 2
    now[0] = 11
    assert r.expire() == 2 and len(r) == 0
    # a re-sent piece replaces the earlier one instead of counting twice
    r.add(piece(2, 1, b"a"))
    r.add(piece(2, 1, b"b"))
    assert r.add(piece(2, 2, b"c")).body == b"bc"

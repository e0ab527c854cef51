"""Decoding agrees with frames published by independent JT/T 808 implementations.

Frame numbers F1–F16 follow ../shared/reference/jt808.md §2, which names the project and
file of each; every test repeats its source. Expected values are the ones those projects'
tests assert (or the notes decoded by hand), not values read back from this codec.
"""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from guanjia.telemetry.jt808 import (
    FrameError,
    FrameSplitter,
    Reassembler,
    decode_frame,
    decode_wire,
    encode,
    encode_message,
    to_position,
)

CST = timezone(timedelta(hours=8))
TRACCAR = "traccar/traccar:src/test/java/org/traccar/protocol/Jt808ProtocolDecoderTest.java"
YZH = "yezhihao/jt808-server:jtt808-protocol/src/test/resources/JT808.txt"


def wire(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


def cst(*args) -> int:
    return int(datetime(*args, tzinfo=CST).timestamp())


def test_f1_authentication_2013():
    # F1, TRACCAR (also HuabaoProtocolDecoderTest.java)
    m = decode_wire(wire("7E 0102 000E 013511221122 0006 61757468656E7469636174696F6E 3F 7E"))
    assert (m.msg_id, m.terminal, m.serial, m.version) == (0x0102, "013511221122", 6, None)
    assert m.terminal_key == "13511221122"
    assert m.body.auth_code == "authentication"
    assert m.body.imei is None


def test_f2_heartbeat():
    # F2, TRACCAR
    m = decode_wire(wire("7e 0002 0000 043048325465 00b7 ca 7e"))
    assert (m.msg_id, m.terminal, m.serial, m.body) == (0x0002, "043048325465", 183, b"")


def test_f3_registration_2013_with_gbk_plate():
    # F3, TRACCAR
    m = decode_wire(
        wire(
            "7E 0100 002D 013511221122 0005 0000 0000 3730313037 48422D523033474244"
            " 0000000000000000000000 32333636313034 02 CBD5 424136383630 38 7E"
        )
    )
    b = m.body
    assert (b.province, b.city, b.maker, b.model, b.terminal_id) == (
        0,
        0,
        "70107",
        "HB-R03GBD",
        "2366104",
    )
    assert (b.plate_color, b.plate) == (2, "苏BA6860")


def test_f4_registration_2019_and_its_2013_twin():
    # F4, YZH lines 3 (2013) and 4 (2019), copied from the file itself; the 2019 widths
    # are 11/30/30 and yezhihao pads these fields on the left.
    m13 = decode_wire(
        wire(
            "7e0100002e1234567890127fff001f00730000797a68000000000000007777772e6a74743830382e63"
            "6e3736353433323101b2e241383838383838227e"
        )
    )
    m19 = decode_wire(
        wire(
            "7e010040550112345678901234567890ffff001f00730000000000000000797a680000000000000000"
            "0000000000000000007777772e6a74743830382e636e000000000000000000003039383736353433"
            "32313039383736353433323101b2e241383838383838227e"
        )
    )
    assert m13.version is None and m19.version == 1
    assert m19.terminal == "12345678901234567890" and m19.serial == 65535
    assert m13.body.terminal_id == "7654321"
    assert m19.body.terminal_id == "09876543210987654321"
    for b in (m13.body, m19.body):
        assert (b.province, b.city, b.maker, b.model) == (31, 115, "yzh", "www.jtt808.cn")
        assert (b.plate_color, b.plate) == (1, "测A888888")


def test_f5_authentication_2019_and_2013():
    # F5, YZH lines 6 (2019) and 5 (2013)
    m = decode_wire(
        wire(
            "7e010240500100000000017299841738ffff2c706d59477a47756b4f384b345a356c70494f546738"
            "6471623365707259614842625853504c7464627947383d31323334353637383930313233343500000"
            "00000000000000000000000332e372e3135347e"
        )
    )
    assert m.version == 1 and m.terminal_key == "17299841738"
    assert m.body.auth_code == "pmYGzGukO8K4Z5lpIOTg8dqb3eprYaHBbXSPLtdbyG8="
    assert (m.body.imei, m.body.software_version) == ("123456789012345", "3.7.15")
    m13 = decode_wire(wire("7e0102000b0123456789017fff6162634031323326343536017e"))
    assert m13.body.auth_code == "abc@123&456"


@pytest.mark.parametrize(
    "frame",
    [
        "7e 8100 001e 012345678901 7fff 970c 00"
        " 636877443053453166636877443053453166636877443053453166 45 7e",
        "7e 8100 401e 01 00000000017299841738 ffff 970c 00"
        " 636877443053453166636877443053453166636877443053453166 4d 7e",
    ],
)
def test_f6_registration_response(frame):
    # F6, YZH (0x8100 lines, 2013 and 2019)
    m = decode_wire(wire(frame))
    assert m.msg_id == 0x8100
    assert m.body == (38668, 0, "chwD0SE1fchwD0SE1fchwD0SE1f")
    # Only the header differs between the editions, so re-encoding is byte-identical.
    assert encode(m) == wire(frame)


@pytest.mark.parametrize(
    "frame",
    [
        "7e 0001 0005 012345678901 7fff 007b 01c8 03 bd 7e",
        "7e 0001 4005 01 00000000017299841738 ffff 007b 01c8 03 b5 7e",
    ],
)
def test_f6_terminal_general_response(frame):
    # F6, YZH lines 1–2
    m = decode_wire(wire(frame))
    assert (m.body.ack_serial, m.body.ack_id, m.body.result) == (123, 0x01C8, 3)
    assert encode(m) == wire(frame)


F7 = (
    "7E 0200 0026 123456789012 00 7D02 00000001 00000002 00BA7F0E 07E4F11C 0028 003C 0000"
    " 181015101010 01 04 00000064 02 02 00 7D01 13 7E"
)


def test_f7_location_with_escapes():
    # F7, SmallChi/JT808:README.md ("举个栗子 1")
    m = decode_wire(wire(F7))
    b = m.body
    assert m.serial == 126  # 00 7d 02 → 00 7e
    assert (b.alarm, b.status, b.lat, b.lon, b.altitude) == (1, 2, 12.222222, 132.444444, 40)
    assert b.speed == 60 and b.speed_kmh == 6.0 and b.direction == 0
    assert b.time == cst(2018, 10, 15, 10, 10, 10)
    assert (b.mileage_km, b.fuel_l) == (10.0, 12.5)
    assert encode(m) == wire(F7)  # escaping on the way out agrees byte for byte


def test_f7_through_the_splitter_in_dribbles():
    # F7 again, fed one byte at a time behind garbage: the splitter must reassemble it.
    data = b"GET / HTTP/1.1\r\n" + wire(F7) + wire(F7)
    sp = FrameSplitter()
    frames = [f for i in range(len(data)) for f in sp.feed(data[i : i + 1])]
    assert len(frames) == 2
    assert decode_frame(frames[0]).body.fuel == 125


def test_f8_escaped_check_code():
    # F8, YZH line 28 (0x0800, 2019): the check code itself is 0x7d, sent as 7d 01.
    m = decode_wire(wire("7e 0800 4008 01 00000000017299841738 ffff 0000007b 00 00 07 01 7d01 7e"))
    assert m.msg_id == 0x0800 and m.version == 1
    assert m.body == bytes.fromhex("0000007b00000701")  # no body schema: kept raw


def test_f9_location_with_signal_satellites_and_vendor_item():
    # F9, TRACCAR (real device near Guangzhou)
    m = decode_wire(
        wire(
            "7e 0200 0040 030300000228 0042 00000000 00000003 01618ab4 06c31ec8 0000 0000 0005"
            " 180921161457 01 04 00000478 30 01 10 31 01 0a"
            " eb 16 000c00b28986011780108622216500060089ffffffff c3 7e"
        )
    )
    b = m.body
    assert b.acc_on and (b.lat, b.lon) == (23.169716, 113.450696)
    assert b.time == cst(2018, 9, 21, 16, 14, 57) and b.direction == 5
    assert (b.mileage_km, b.signal, b.satellites) == (114.4, 16, 10)
    assert [iid for iid, _ in b.extras] == [0xEB] and len(b.extras[0][1]) == 22
    p = to_position(m.terminal_key, b, 1.5e9)
    assert p.terminal == "30300000228" and p.mileage_km == 114.4 and p.received == 1.5e9
    assert p.iso_time() == "2018-09-21T16:14:57+08:00"


def test_f10_fuel_and_recorder_speed():
    # F10, TRACCAR
    m = decode_wire(
        wire(
            "7E 0200 002A 013833501744 0019 00000000 000000C2 01597FA8 06CC0158 0080 0000 0008"
            " 150818072121 01 04 000002F5 02 02 0000 03 02 0000 9F 7E"
        )
    )
    b = m.body
    assert not b.acc_on and (b.lat, b.lon, b.altitude) == (22.6426, 114.032984, 128)
    assert b.time == cst(2015, 8, 18, 7, 21, 21)
    assert (b.mileage_km, b.fuel_l, b.recorder_speed) == (75.7, 0.0, 0)


def test_f11_blind_area_batch_item():
    # F11, TRACCAR: the notes give the header and the first of 8 items in full; the batch
    # is rebuilt here from that item (count 1, type 1 = blind-area back-fill).
    item = wire(
        "00000000 00000003 01597412 06CBFD50 0172 0000 0001 160527090624 01 04 0000001D 03 02 0000"
    )
    body = bytes.fromhex("0001 01".replace(" ", "")) + len(item).to_bytes(2, "big") + item
    m = decode_wire(encode_message(0x0704, "013567777777", 2037, body))
    assert m.body.kind == 1 and len(m.body.items) == 1
    it = m.body.items[0]
    assert (it.lat, it.lon, it.altitude) == (22.639634, 114.031952, 370)
    assert it.time == cst(2016, 5, 27, 9, 6, 24) and it.mileage_km == 2.9


def test_f12_batch_2019_southern_hemisphere():
    # F12, TRACCAR (real MD300; the test asserts KEY_SATELLITES = 14)
    m = decode_wire(
        wire(
            "7e 0704 402d 01 00000866496077582164 881d 0001 00"
            " 0028 00000000 00000007 01a00192 091f2a47 0016 0000 0002 260509164227"
            " 01 04 00002582 30 01 00 31 01 0e 50 7e"
        )
    )
    assert m.version == 1 and m.terminal_key == "866496077582164" and m.serial == 34845
    assert m.body.kind == 0
    (it,) = m.body.items
    assert (it.lat, it.lon, it.altitude) == (-27.263378, 153.037383, 22)
    assert it.time == cst(2026, 5, 9, 16, 42, 27)
    assert (it.mileage_km, it.signal, it.satellites) == (960.2, 0, 14)


def test_f13_2013_frame_with_the_2019_flag_set():
    # F13, SmallChi/JT808:src/JT808.Protocol.Test/Simples/Demo14.cs
    m = decode_wire(wire("7e 0102 400c 010030000681 0902 4a3130303330303030363831 85 7e"))
    assert (m.version, m.terminal, m.serial) == (None, "010030000681", 2306)
    assert m.body.auth_code == "J10030000681"


def test_f14_subpackages_with_non_consecutive_serials():
    # F14, SmallChi/JT808:src/JT808.Protocol.Test/JT808SerializerTest.cs (MergerTest): the
    # headers are the published ones (0x23F0 / 0x20D3, serials 0x04D1 and 0x04E2, 2 pieces);
    # the notes elide the 1008 + 211 body bytes, so the bodies here are filler.
    r = Reassembler()
    p1 = encode_message(0x0104, "011275400381", 0x04D1, b"\x01" * 1008, packages=(2, 1))
    p2 = encode_message(0x0104, "011275400381", 0x04E2, b"\x02" * 211, packages=(2, 2))
    assert p1[1:5] == bytes.fromhex("010423f0") and p2[1:5] == bytes.fromhex("010420d3")
    m1, m2 = decode_wire(p1), decode_wire(p2)
    assert m1.packages == (2, 1) and m2.packages == (2, 2)
    assert r.add(m2) is None  # order of arrival does not matter
    whole = r.add(m1)
    assert whole.body == b"\x01" * 1008 + b"\x02" * 211 and whole.serial == 0x04D1
    assert len(r) == 0


def test_f15_vendor_items_do_not_break_the_report():
    # F15, https://github.com/traccar/traccar/issues/6000 (crashed Traccar's vendor branch)
    m = decode_wire(
        wire(
            "7e 0200 004b 071604684030 004d 00000000 000c0006 005e56a5 065c5734 0033 0000 0052"
            " 260827172710 30 01 1b 31 01 0d"
            " e1 1c 01fe0059007d0296033ce517c5007d0296033ce55dc7007d0296033ce549c8"
            " e4 02 0064 f0 02 034a f5 01 01 a4 7e"
        )
    )
    b = m.body
    assert (b.lat, b.lon) == (-6.182565, 106.714932)
    assert b.time == cst(2026, 8, 27, 17, 27, 10)
    assert (b.signal, b.satellites) == (27, 13)
    assert [(i, len(v)) for i, v in b.extras] == [(0xE1, 28), (0xE4, 2), (0xF0, 2), (0xF5, 1)]


F16 = (
    "7E 0200 0032 013511221122 0007 00000000 000C0003 01578CC0 06CA3A5C 0047 0000 0000"
    " 140723172015 01 04 00000000 30 01 16 31 01 0B D0 7E"
)


def test_f16_bad_length_and_check_dropped_strict_readable_lenient():
    # F16, TRACCAR: header says 50 body bytes, 40 follow; check 0xD0 where the XOR is 0xF0.
    with pytest.raises(FrameError):
        decode_wire(wire(F16))
    b = decode_wire(wire(F16), strict=False).body
    assert (b.lat, b.lon, b.altitude) == (22.51488, 113.916508, 71)
    assert b.time == cst(2014, 7, 23, 17, 20, 15)
    assert (b.signal, b.satellites) == (22, 11)


def test_yezhihao_location_with_every_standard_item():
    # YZH 0x0200 lines (2013 and 2019 twins): items 01–05, 11–13, 25, 2a, 2b, 30, 31.
    body = (
        "000004000000080006eeb6ad02633df701380003006320070719235901040000000b02020016030200"
        "210402002c051e37373700000000000000000000000000000000000000000000000000000011054200"
        "00004212064d0000004d4d1307000000580058582504000000632a02000a2b040000001430011e310128"
    )
    a = decode_wire(wire("7e0200007c0123456789017fff" + body + "6b7e")).body
    b = decode_wire(wire("7e0200407c0100000000017299841738ffff" + body + "637e")).body
    assert a == b
    assert (a.mileage, a.fuel, a.recorder_speed, a.ext_signal, a.signal, a.satellites) == (
        11,
        22,
        33,
        99,
        30,
        40,
    )
    assert [i for i, _ in a.extras] == [0x04, 0x05, 0x11, 0x12, 0x13, 0x2A, 0x2B]
    assert a.time == int(datetime(2020, 7, 7, 11, 23, 59, tzinfo=UTC).timestamp())

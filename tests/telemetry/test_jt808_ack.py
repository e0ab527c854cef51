"""The fast 0x8001 encoder gives the generic encoder's bytes, escaping included."""

from hypothesis import given, settings
from hypothesis import strategies as st

from guanjia.telemetry.jt808 import (
    LOCATION,
    PLATFORM_RESPONSE,
    GeneralResponder,
    GeneralResponse,
    decode_wire,
    encode_general_response,
    encode_message,
)

u16 = st.integers(0, 0xFFFF)
u8 = st.integers(0, 0xFF)
terminal13 = st.text("0123456789", min_size=1, max_size=12)
terminal19 = st.text("0123456789", min_size=1, max_size=20)


def generic(terminal, serial, ack_serial, ack_id, result, version):
    body = GeneralResponse(ack_serial, ack_id, result)
    return encode_message(PLATFORM_RESPONSE, terminal, serial, body, version=version)


@settings(max_examples=500)
@given(
    st.one_of(
        st.tuples(terminal13, st.none()),
        st.tuples(terminal19, st.sampled_from([1, 0x7D, 0x7E])),
    ),
    st.lists(st.tuples(u16, u16, u16, u8), min_size=1, max_size=20),
)
def test_same_bytes_as_generic_encoder(term_version, acks):
    terminal, version = term_version
    responder = GeneralResponder(terminal, version)
    for serial, ack_serial, ack_id, result in acks:
        want = generic(terminal, serial, ack_serial, ack_id, result, version)
        assert responder(serial, ack_serial, ack_id, result) == want
        got = encode_general_response(terminal, serial, ack_serial, ack_id, result, version=version)
        assert got == want


def test_every_serial_both_editions_with_escapes():
    # terminals whose BCD holds 0x7d/0x7e-free digits; the serials walk every value, so
    # every check code and every escape of the variable part occurs.
    for terminal, version in (("13912345678", None), ("18000000000000000001", 1)):
        responder = GeneralResponder(terminal, version)
        for serial in range(0x10000):
            ack = (serial * 7919) & 0xFFFF
            want = generic(terminal, serial, ack, LOCATION, serial & 3, version)
            assert responder(serial, ack, LOCATION, serial & 3) == want
        msg = decode_wire(responder(0x7E7D, 0x7D7E, LOCATION, 0))
        assert (msg.serial, msg.version, msg.terminal_key) == (0x7E7D, version, terminal)
        assert msg.body == GeneralResponse(0x7D7E, LOCATION, 0)

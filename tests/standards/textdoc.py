"""The fixture standards, read with the importer's parser (`parsing.read_file`)."""

from __future__ import annotations

from pathlib import Path

from guanjia.standards.document import StandardDoc
from guanjia.standards.parsing import parse_text, read_bytes, read_file  # noqa: F401

# shared/ sits beside the checkout (see the README): <checkout>/../shared/fixtures/standards
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "standards"


def load_fixture(name: str) -> StandardDoc:
    return read_file(FIXTURES / name)


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")

"""Helpers of the import tests: the fixture standards (the package's copies of
tests/fixtures/standards), their text, and importing them as the system."""

from __future__ import annotations

from pathlib import Path

from guanjia.standards import services
from guanjia.standards.parsing import parse_text

DATA = Path(services.__file__).resolve().parent / "data"
FIXTURES = {
    "9001": DATA / "sample-DB50-T-9001-2022.txt",
    "9003": DATA / "sample-DB50-T-9003-2023.txt",
    "9002": DATA / "sample-DB51-T-9002-2021.txt",
}


def text(key: str) -> str:
    return FIXTURES[key].read_text(encoding="utf-8")


def doc(key: str):
    return parse_text(text(key))


def import_fixture(key: str, agency, actor=None, **kwargs):
    return services.import_document(actor, doc(key), agency, **kwargs)


def import_all(agency, order=("9001", "9003", "9002")) -> dict:
    return {key: import_fixture(key, agency)[0] for key in order}

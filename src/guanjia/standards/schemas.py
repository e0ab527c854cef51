"""API shapes of the standards library. Names are the contract: add fields, rename none."""

from __future__ import annotations

from datetime import date

from ninja import Field, Schema


class StandardOut(Schema):
    id: int
    code: str
    code_key: str
    title: str
    english_title: str
    level: str
    level_label: str = Field(alias="get_level_display")
    mandatory: bool
    status: str = Field(description="由阶段、日期与代替关系推导的状态")
    status_label: str = Field(alias="get_status_display")
    stage: str
    region: str | None = Field(None, alias="region.code")
    region_name: str | None = Field(None, alias="region.name")
    issuer: str
    ics: str
    ccs: str
    issue_date: date | None
    effective_date: date | None
    withdrawn_date: date | None
    agency_id: int
    agency_name: str = Field(alias="agency.name")
    is_public: bool
    clause_count: int
    source_format: str


class ClauseOut(Schema):
    id: int
    number: str
    title: str
    text: str
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    annex: str
    depth: int
    position: int


class TermOut(Schema):
    number: str
    term: str
    english: str
    definition: str


class ReferenceOut(Schema):
    code: str
    dated: bool
    title: str
    in_library: bool
    target_id: int | None = Field(None, description="库内标准的 id（调用者可见时）")


class StandardLink(Schema):
    id: int
    code: str
    title: str


class StandardDetailOut(StandardOut):
    foreword: str
    clauses: list[ClauseOut]
    terms: list[TermOut]
    references: list[ReferenceOut]
    replaces: list[str] = Field(description="“代替…”所列编号（无论是否在库）")
    replaces_in_library: list[StandardLink]
    replaced_by: list[StandardLink]
    shared_with: list[int]
    has_source_file: bool


class StandardPatch(Schema):
    title: str | None = None
    english_title: str | None = None
    issuer: str | None = None
    ics: str | None = None
    ccs: str | None = None
    issue_date: date | None = None
    effective_date: date | None = None
    withdrawn_date: date | None = None
    stage: str | None = Field(None, description="起草阶段，或 published / superseded / withdrawn")
    is_public: bool | None = None
    agency_id: int | None = None
    shared_with: list[int] | None = Field(None, description="共享的协作小组 id")


class ImportOut(Schema):
    created: bool
    standard: StandardOut
    clauses: int
    terms: int
    references: int
    linked: int

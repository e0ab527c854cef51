"""API shapes of the organisation. Names are the contract: add fields, rename none."""

from datetime import datetime
from typing import Annotated

from ninja import Field, FilterLookup, FilterSchema, Schema
from pydantic import field_validator


class RegionOut(Schema):
    id: int
    code: str
    name: str
    level: str
    depth: int
    parent_code: str | None = None


class AgencyRef(Schema):
    id: int
    name: str


class AgencyOut(Schema):
    id: int
    name: str
    short_name: str
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    region: str = Field(alias="region.code")
    region_name: str = Field(alias="region.name")
    parent_id: int | None = Field(None, alias="parent_pk")
    depth: int
    children: int = Field(alias="numchild")
    credit_code: str | None
    contact_person: str
    contact_phone: str
    address: str
    is_active: bool


class AgencyIn(Schema):
    name: str
    short_name: str = ""
    kind: str = "agency"
    region: str = Field(description="GB/T 2260 code of the region, e.g. 500111")
    parent_id: int | None = None
    credit_code: str | None = None
    contact_person: str = ""
    contact_phone: str = ""
    address: str = ""
    is_active: bool = True


class AgencyPatch(Schema):
    name: str | None = None
    short_name: str | None = None
    kind: str | None = None
    region: str | None = None
    credit_code: str | None = None
    contact_person: str | None = None
    contact_phone: str | None = None
    address: str | None = None
    is_active: bool | None = None


class MoveIn(Schema):
    parent_id: int | None


class AgencyFilter(FilterSchema):
    search: str | None = Field(None, description="名称、简称或统一社会信用代码")
    kind: str | None = None
    region: str | None = Field(None, description="地区代码（含下级地区）")
    under: int | None = Field(None, description="某单位及其下级")
    is_active: bool | None = None


class GroupOut(Schema):
    id: int
    name: str
    description: str
    agency_id: int
    agency_name: str = Field(alias="agency.name")
    members: list[AgencyRef]

    @field_validator("members", mode="before")
    @classmethod
    def _members(cls, value):
        return list(value.all()) if hasattr(value, "all") else value


class GroupIn(Schema):
    name: str
    description: str = ""
    agency_id: int
    member_ids: list[int] = []


class GroupPatch(Schema):
    name: str | None = None
    description: str | None = None
    member_ids: list[int] | None = None


class RoleOut(Schema):
    id: int
    key: str
    name: str
    description: str
    permissions: list[str]
    data_scope: str
    data_scope_label: str = Field(alias="get_data_scope_display")
    custom_agency_ids: list[int] = []
    agency_id: int | None
    enabled: bool

    @staticmethod
    def resolve_custom_agency_ids(obj):
        return [a.pk for a in obj.custom_agencies.all()]


class RoleIn(Schema):
    key: str
    name: str
    description: str = ""
    permissions: list[str] = []
    data_scope: str = "3"
    custom_agency_ids: list[int] = []
    agency_id: int | None = None
    enabled: bool = True


class RolePatch(Schema):
    name: str | None = None
    description: str | None = None
    permissions: list[str] | None = None
    data_scope: str | None = None
    custom_agency_ids: list[int] | None = None
    enabled: bool | None = None


class UserOut(Schema):
    id: int
    username: str
    real_name: str
    phone: str
    email: str
    agency_id: int | None
    agency_name: str | None = None
    roles: list[str] = []
    is_active: bool
    last_login: datetime | None

    @staticmethod
    def resolve_agency_name(obj):
        return obj.agency.name if obj.agency_id else None

    @staticmethod
    def resolve_roles(obj):
        return [r.key for r in obj.roles.all()]


class UserIn(Schema):
    username: str
    password: str | None = None
    real_name: str = ""
    phone: str = ""
    email: str = ""
    agency_id: int
    role_keys: list[str] = []
    is_active: bool = True


class UserPatch(Schema):
    password: str | None = None
    real_name: str | None = None
    phone: str | None = None
    email: str | None = None
    agency_id: int | None = None
    role_keys: list[str] | None = None
    is_active: bool | None = None


class UserFilter(FilterSchema):
    search: str | None = Field(None, description="登录名或姓名")
    agency: int | None = None
    is_active: bool | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str


class TokenIn(Schema):
    name: str = ""
    expires_at: datetime | None = None


class ChangeOut(Schema):
    id: int
    time: datetime
    user_name: str
    request_id: str
    source: str
    action: str
    object_type: str = Field(alias="content_type.model")
    object_id: str
    object_repr: str
    agency_id: int | None
    before: dict | None
    after: dict | None


class ChangeFilter(FilterSchema):
    action: str | None = None
    object_type: Annotated[str | None, FilterLookup("content_type__model")] = None
    object_id: str | None = None
    user: Annotated[str | None, FilterLookup("user_name")] = None
    agency: Annotated[int | None, FilterLookup("agency_id")] = None
    request_id: str | None = None
    source: str | None = None
    since: Annotated[datetime | None, FilterLookup("time__gte")] = None
    until: Annotated[datetime | None, FilterLookup("time__lt")] = None


class OperationOut(Schema):
    id: int
    time: datetime
    user_name: str
    agency_id: int | None
    request_id: str
    method: str
    path: str
    view_name: str
    status_code: int
    duration_ms: int
    ip: str | None


class LoginOut(Schema):
    id: int
    time: datetime
    username: str
    agency_id: int | None
    success: bool
    message: str
    ip: str | None
    user_agent: str


class OperationFilter(FilterSchema):
    user: Annotated[str | None, FilterLookup("user_name")] = None
    agency: Annotated[int | None, FilterLookup("agency_id")] = None
    method: str | None = None
    since: Annotated[datetime | None, FilterLookup("time__gte")] = None
    until: Annotated[datetime | None, FilterLookup("time__lt")] = None


class LoginFilter(FilterSchema):
    user: Annotated[str | None, FilterLookup("username")] = None
    agency: Annotated[int | None, FilterLookup("agency_id")] = None
    success: bool | None = None
    since: Annotated[datetime | None, FilterLookup("time__gte")] = None
    until: Annotated[datetime | None, FilterLookup("time__lt")] = None


class IndicatorOut(Schema):
    key: str
    domain: str
    label: str
    unit: str
    description: str
    higher_is_better: bool | None


class IndicatorValueOut(Schema):
    key: str
    label: str
    unit: str
    agency_id: int
    agency_name: str
    period: str
    value: float | None
    previous: float | None


class Error(Schema):
    detail: str | dict | list

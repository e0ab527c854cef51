"""REST API of the organisation: regions, agencies, groups, roles, users, tokens, audit,
indicators. Every query starts from `restrict()`; every write goes through services."""

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.conf import settings as ninja_settings
from ninja.pagination import LimitOffsetPagination, paginate

from . import services
from .indicator_registry import IndicatorScope, Period, all_indicators, get_indicator
from .models import (
    Agency,
    ApiToken,
    CollaborationGroup,
    LoginLog,
    ObjectChange,
    OperationLog,
    Region,
    Role,
    User,
)
from .schemas import (
    AgencyFilter,
    AgencyIn,
    AgencyOut,
    AgencyPatch,
    ChangeFilter,
    ChangeOut,
    Error,
    GroupIn,
    GroupOut,
    GroupPatch,
    IndicatorOut,
    IndicatorValueOut,
    LoginFilter,
    LoginOut,
    MoveIn,
    OperationFilter,
    OperationOut,
    RegionOut,
    RoleIn,
    RoleOut,
    RolePatch,
    TokenCreated,
    TokenIn,
    TokenOut,
    UserFilter,
    UserIn,
    UserOut,
    UserPatch,
)

router = Router()


class LimitOffset(LimitOffsetPagination):
    """ninja's limit/offset pages, but a ?limit= above NINJA_PAGINATION_MAX_LIMIT gives
    that many rows instead of ninja's 422: a program asking for "everything" gets the
    largest page and the count, and pages on."""

    class Input(Schema):
        limit: int = Field(ninja_settings.PAGINATION_PER_PAGE, ge=1)
        offset: int = Field(0, ge=0)


WRITE_ERRORS = {400: Error, 403: Error, 404: Error, 422: Error}


def scoped(request, model, action="view"):
    return model.objects.restrict(request.user, action)


def visible(request, model, pk, action="view"):
    """One object of `model` the caller may `action`, else 404 (never 403: a 403 would
    confirm that a record outside the caller's scope exists)."""
    return get_object_or_404(scoped(request, model, action), pk=pk)


def _agency(request, pk: int, action="view") -> Agency:
    return visible(request, Agency, pk, action)


def write_agency(request, pk: int | None) -> Agency:
    """The agency a new record goes into: the one named (visible to the caller) or the
    caller's own."""
    if pk is not None:
        return _agency(request, pk)
    if request.user.agency_id:
        return request.user.agency
    raise ValidationError({"agency_id": "请指定单位 agency_id"})


def _agencies_by_id(request, ids: list[int]) -> list[Agency]:
    found = list(scoped(request, Agency).filter(pk__in=ids))
    if len(found) != len(set(ids)):
        from django.http import Http404

        raise Http404("未找到或无权访问的单位")
    return found


def _region(code: str) -> Region:
    return get_object_or_404(Region, code=code)


# -- regions ------------------------------------------------------------------------------


@router.get("/regions", response=list[RegionOut], tags=["组织"])
@paginate(LimitOffset)
def list_regions(
    request, parent: str | None = None, level: str | None = None, search: str | None = None
):
    """GB/T 2260 行政区划。`parent` 为上级代码（只列直接下级）。"""
    qs = scoped(request, Region).with_parent("code", "parent_code")
    if parent:
        node = _region(parent)
        qs = qs.filter(path__startswith=node.path, depth=node.depth + 1)
    if level:
        qs = qs.filter(level=level)
    if search:
        qs = qs.filter(Q(name__contains=search) | Q(code__startswith=search))
    return qs


# -- agencies -----------------------------------------------------------------------------


def _agency_queryset(request, action="view"):
    return scoped(request, Agency, action).select_related("region").with_parent("pk", "parent_pk")


@router.get("/agencies", response=list[AgencyOut], tags=["组织"])
@paginate(LimitOffset)
def list_agencies(request, filters: Query[AgencyFilter]):
    qs = _agency_queryset(request)
    if filters.search:
        s = filters.search.strip()
        qs = qs.filter(Q(name__contains=s) | Q(short_name__contains=s) | Q(credit_code__iexact=s))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.region:
        qs = qs.filter(region__path__startswith=_region(filters.region).path)
    if filters.under:
        qs = qs.filter(path__startswith=_agency(request, filters.under).path)
    if filters.is_active is not None:
        qs = qs.filter(is_active=filters.is_active)
    return qs


@router.get("/agencies/{agency_id}", response=AgencyOut, tags=["组织"])
def get_agency(request, agency_id: int):
    return get_object_or_404(_agency_queryset(request), pk=agency_id)


@router.post("/agencies", response={201: AgencyOut, **WRITE_ERRORS}, tags=["组织"])
def create_agency(request, data: AgencyIn):
    fields = data.dict(exclude={"parent_id", "region"})
    parent = _agency(request, data.parent_id, "add") if data.parent_id else None
    agency = services.create_agency(
        request.user, parent=parent, region=_region(data.region), **fields
    )
    return Status(201, get_object_or_404(_agency_queryset(request), pk=agency.pk))


@router.patch("/agencies/{agency_id}", response={200: AgencyOut, **WRITE_ERRORS}, tags=["组织"])
def update_agency(request, agency_id: int, data: AgencyPatch):
    agency = _agency(request, agency_id, "change")
    fields = data.dict(exclude_unset=True)
    if "region" in fields:
        fields["region"] = _region(fields["region"])
    services.update_agency(request.user, agency, **fields)
    return get_object_or_404(_agency_queryset(request), pk=agency_id)


@router.post("/agencies/{agency_id}/move", response={200: AgencyOut, **WRITE_ERRORS}, tags=["组织"])
def move_agency(request, agency_id: int, data: MoveIn):
    agency = _agency(request, agency_id, "change")
    parent = _agency(request, data.parent_id, "change") if data.parent_id else None
    services.move_agency(request.user, agency, parent)
    return get_object_or_404(_agency_queryset(request), pk=agency_id)


@router.delete("/agencies/{agency_id}", response={204: None, **WRITE_ERRORS}, tags=["组织"])
def delete_agency(request, agency_id: int):
    services.delete_agency(request.user, _agency(request, agency_id, "delete"))
    return Status(204, None)


# -- collaboration groups -----------------------------------------------------------------


def _groups(request, action="view"):
    return (
        scoped(request, CollaborationGroup, action)
        .select_related("agency")
        .prefetch_related("members")
    )


@router.get("/groups", response=list[GroupOut], tags=["组织"])
@paginate(LimitOffset)
def list_groups(request, search: str | None = None, member: int | None = None):
    qs = _groups(request)
    if search:
        qs = qs.filter(name__contains=search)
    if member:
        qs = qs.filter(
            pk__in=CollaborationGroup.members.through.objects.filter(agency_id=member).values(
                "collaborationgroup_id"
            )
        )
    return qs


@router.get("/groups/{group_id}", response=GroupOut, tags=["组织"])
def get_group(request, group_id: int):
    return get_object_or_404(_groups(request), pk=group_id)


@router.post("/groups", response={201: GroupOut, **WRITE_ERRORS}, tags=["组织"])
def create_group(request, data: GroupIn):
    group = services.save_group(
        request.user,
        name=data.name,
        description=data.description,
        agency=_agency(request, data.agency_id),
        members=_agencies_by_id(request, data.member_ids),
    )
    return Status(201, get_object_or_404(_groups(request), pk=group.pk))


@router.patch("/groups/{group_id}", response={200: GroupOut, **WRITE_ERRORS}, tags=["组织"])
def update_group(request, group_id: int, data: GroupPatch):
    group = get_object_or_404(_groups(request, "change"), pk=group_id)
    fields = data.dict(exclude_unset=True, exclude={"member_ids"})
    members = None if data.member_ids is None else _agencies_by_id(request, data.member_ids)
    services.save_group(request.user, group, members=members, **fields)
    return get_object_or_404(_groups(request), pk=group_id)


@router.delete("/groups/{group_id}", response={204: None, **WRITE_ERRORS}, tags=["组织"])
def delete_group(request, group_id: int):
    services.delete_group(request.user, get_object_or_404(_groups(request, "delete"), pk=group_id))
    return Status(204, None)


# -- roles --------------------------------------------------------------------------------


def _roles(request, action="view"):
    return scoped(request, Role, action).prefetch_related("custom_agencies")


@router.get("/roles", response=list[RoleOut], tags=["系统"])
@paginate(LimitOffset)
def list_roles(request):
    return _roles(request)


@router.get("/roles/{role_id}", response=RoleOut, tags=["系统"])
def get_role(request, role_id: int):
    return get_object_or_404(_roles(request), pk=role_id)


@router.post("/roles", response={201: RoleOut, **WRITE_ERRORS}, tags=["系统"])
def create_role(request, data: RoleIn):
    fields = data.dict(exclude={"custom_agency_ids", "agency_id"})
    agency = _agency(request, data.agency_id) if data.agency_id else None
    role = services.save_role(
        request.user,
        agency=agency,
        custom_agencies=_agencies_by_id(request, data.custom_agency_ids),
        **fields,
    )
    return Status(201, get_object_or_404(_roles(request), pk=role.pk))


@router.patch("/roles/{role_id}", response={200: RoleOut, **WRITE_ERRORS}, tags=["系统"])
def update_role(request, role_id: int, data: RolePatch):
    role = get_object_or_404(_roles(request, "change"), pk=role_id)
    fields = data.dict(exclude_unset=True, exclude={"custom_agency_ids"})
    custom = (
        None if data.custom_agency_ids is None else _agencies_by_id(request, data.custom_agency_ids)
    )
    services.save_role(request.user, role, custom_agencies=custom, **fields)
    return get_object_or_404(_roles(request), pk=role_id)


@router.delete("/roles/{role_id}", response={204: None, **WRITE_ERRORS}, tags=["系统"])
def delete_role(request, role_id: int):
    services.delete_role(request.user, get_object_or_404(_roles(request, "delete"), pk=role_id))
    return Status(204, None)


# -- users --------------------------------------------------------------------------------


def _users(request, action="view"):
    # Roles are listed as far as the caller may see them (not other agencies' roles).
    roles = Prefetch("roles", queryset=scoped(request, Role))
    return scoped(request, User, action).select_related("agency").prefetch_related(roles)


def _roles_by_key(request, keys: list[str]) -> list[Role]:
    found = list(_roles(request).filter(key__in=keys))
    if len(found) != len(set(keys)):
        from django.http import Http404

        raise Http404("未找到或无权访问的角色")
    return found


@router.get("/users", response=list[UserOut], tags=["系统"])
@paginate(LimitOffset)
def list_users(request, filters: Query[UserFilter]):
    qs = _users(request)
    if filters.search:
        qs = qs.filter(Q(username__contains=filters.search) | Q(real_name__contains=filters.search))
    if filters.agency:
        qs = qs.filter(agency_id=filters.agency)
    if filters.is_active is not None:
        qs = qs.filter(is_active=filters.is_active)
    return qs


@router.get("/users/{user_id}", response=UserOut, tags=["系统"])
def get_user(request, user_id: int):
    return get_object_or_404(_users(request), pk=user_id)


@router.get("/me", response=UserOut, tags=["系统"])
def me(request):
    return request.user


@router.post("/users", response={201: UserOut, **WRITE_ERRORS}, tags=["系统"])
def create_user(request, data: UserIn):
    user = services.create_user(
        request.user,
        username=data.username,
        password=data.password,
        real_name=data.real_name,
        phone=data.phone,
        email=data.email,
        agency=_agency(request, data.agency_id),
        is_active=data.is_active,
        roles=_roles_by_key(request, data.role_keys),
    )
    return Status(201, get_object_or_404(_users(request), pk=user.pk))


@router.patch("/users/{user_id}", response={200: UserOut, **WRITE_ERRORS}, tags=["系统"])
def update_user(request, user_id: int, data: UserPatch):
    user = get_object_or_404(scoped(request, User, "change"), pk=user_id)  # all its roles
    fields = data.dict(exclude_unset=True, exclude={"role_keys", "agency_id", "password"})
    if data.agency_id is not None:
        fields["agency"] = _agency(request, data.agency_id)
    roles = None
    if data.role_keys is not None:  # roles the caller cannot see are kept as they are
        hidden = Role.objects.filter(users=user).exclude(pk__in=scoped(request, Role).values("pk"))
        roles = _roles_by_key(request, data.role_keys) + list(hidden)
    services.update_user(request.user, user, roles=roles, password=data.password, **fields)
    return get_object_or_404(_users(request), pk=user_id)


# -- tokens (the caller's own) ------------------------------------------------------------


@router.get("/tokens", response=list[TokenOut], tags=["系统"])
@paginate(LimitOffset)
def list_tokens(request):
    # The caller's own credentials, not agency data: everyone manages their own tokens.
    return ApiToken.objects.filter(user=request.user).order_by("-created_at")


@router.post("/tokens", response={201: TokenCreated}, tags=["系统"])
def create_token(request, data: TokenIn):
    token, raw = services.create_token(request.user, request.user, data.name, data.expires_at)
    token.token = raw
    return Status(201, token)


@router.delete("/tokens/{token_id}", response={204: None, 404: Error}, tags=["系统"])
def revoke_token(request, token_id: int):
    token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=token_id)
    services.revoke_token(request.user, token)
    return Status(204, None)


# -- audit --------------------------------------------------------------------------------


@router.get("/audit/changes", response=list[ChangeOut], tags=["审计"])
@paginate(LimitOffset)
def list_changes(request, filters: Query[ChangeFilter]):
    return filters.filter(scoped(request, ObjectChange).select_related("content_type"))


@router.get("/audit/operations", response=list[OperationOut], tags=["审计"])
@paginate(LimitOffset)
def list_operations(request, filters: Query[OperationFilter]):
    return filters.filter(scoped(request, OperationLog))


@router.get("/audit/logins", response=list[LoginOut], tags=["审计"])
@paginate(LimitOffset)
def list_logins(request, filters: Query[LoginFilter]):
    return filters.filter(scoped(request, LoginLog))


# -- indicators ---------------------------------------------------------------------------


@router.get("/indicators", response=list[IndicatorOut], tags=["指标"])
def list_indicators(request, domain: str | None = None):
    return [i for i in all_indicators() if domain in (None, i.domain)]


@router.get(
    "/indicators/{key}/value",
    response={200: IndicatorValueOut, 404: Error, 422: Error},
    tags=["指标"],
)
def indicator_value(request, key: str, agency: int, period: str, include_below: bool = True):
    try:
        ind = get_indicator(key)
    except KeyError as e:
        return Status(404, {"detail": str(e)})
    try:
        p = Period.parse(period)
    except ValueError as e:
        return Status(422, {"detail": str(e)})
    target = _agency(request, agency)
    scope = IndicatorScope(target, include_below, request.user)
    return {
        "key": ind.key,
        "label": ind.label,
        "unit": ind.unit,
        "agency_id": target.pk,
        "agency_name": target.name,
        "period": p.label,
        "value": ind.compute(scope, p),
        "previous": ind.compute(scope, p.previous()),
    }

"""GET /api/v1/standards/search — full-text search of the standards library, inside the
caller's data scope (see `guanjia.standards.search`). Mounted by `standards.api` under the
standards prefix."""

from datetime import date

from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from guanjia.core.schemas import Error

from . import search as engine


class SearchParams(Schema):
    q: str = Field(..., min_length=1, description="检索词、标准编号（任意写法），或二者")
    level: str | None = Field(None, description="标准层级：national/industry/local/group/internal")
    region: str | None = Field(None, description="适用地区的行政区划代码（含下级）")
    status: str | None = Field(None, description="状态：in_force、superseded、withdrawn …")
    framework_node: int | None = Field(None, description="标准体系框架节点")
    date_from: date | None = Field(None, description="发布日期起")
    date_to: date | None = Field(None, description="发布日期止")
    limit: int = Field(20, ge=1, le=100, description="最多返回几项标准")


class SnippetOut(Schema):
    clause: str = Field(description="条款或术语编号；标准名称为空")
    kind: str = Field(description="title / clause / term")
    text: str
    highlights: list[tuple[int, int]] = Field(description="命中词在 text 中的 [起, 止) 位置")


class SearchItemOut(Schema):
    id: int
    code: str
    code_key: str
    title: str
    level: str
    status: str
    year: int | None
    agency_id: int
    score: float = Field(description="0–1；编号精确命中为 1")
    match: str = Field(description="code：编号命中；text：全文命中")
    clauses: list[str] = Field(description="命中的条款、术语编号，按文本顺序")
    snippets: list[SnippetOut]


class SearchOut(Schema):
    items: list[SearchItemOut]
    count: int


def make_router() -> Router:
    router = Router(tags=["标准库"])

    @router.get("/search", response={200: SearchOut, 422: Error}, summary="全文检索标准")
    def search_standards(request, params: Query[SearchParams]):
        """编号在前（任意写法；不注年代号时匹配各版本，现行在前），其后按相关度；相关度相同时
        现行版本排在被代替、废止版本之前。每项给出命中的条款号与摘录。"""
        try:
            results = engine.search(
                request.user,
                params.q,
                level=params.level,
                region=params.region,
                status=params.status,
                framework_node=params.framework_node,
                date_from=params.date_from,
                date_to=params.date_to,
                limit=params.limit,
            )
        except (ValueError, LookupError) as e:
            raise HttpError(422, str(e)) from None
        return {"items": [r.as_dict() for r in results], "count": len(results)}

    return router


router = make_router()

"""API shapes of the vehicle register. Names are the contract: add fields, rename none."""

from datetime import date

from ninja import Field, Schema


def _num(value) -> float | None:
    return None if value is None else float(value)


class VehicleOut(Schema):
    id: int
    plate: str
    vin: str
    category: str
    category_label: str = Field(alias="get_category_display")
    body_type: str
    body_type_label: str = Field(alias="get_body_type_display")
    brand_model: str
    energy_type: str
    energy_label: str = Field(alias="get_energy_type_display")
    is_new_energy: bool
    displacement_l: float | None
    purchase_price: float
    purchase_date: date
    odometer_km: float
    seats: int
    tank_l: float | None
    fuel_norm_l_100km: float | None
    is_domestic: bool
    agency_id: int
    agency: str = Field(alias="agency.name")
    status: str
    status_label: str = Field(alias="get_status_display")
    garage_id: int | None
    terminal: str = Field(alias="terminal_number")
    terminal_key: str
    notes: str

    @staticmethod
    def resolve_displacement_l(obj) -> float | None:
        return _num(obj.displacement_l)

    @staticmethod
    def resolve_tank_l(obj) -> float | None:
        return _num(obj.tank_l)

    @staticmethod
    def resolve_fuel_norm_l_100km(obj) -> float | None:
        return _num(obj.fuel_norm_l_100km)


class ApprovalOut(Schema):
    id: int
    vehicle_id: int
    plate: str = Field(alias="vehicle.plate")
    agency_id: int = Field(alias="vehicle.agency_id")
    tier: str
    tier_label: str = Field(alias="get_tier_display")
    reason: str
    approved_by: str
    document_number: str
    approved_on: date


class Reason(Schema):
    rule: str
    field: str
    limit: float | bool | None
    value: float | bool | str | None
    source: str
    source_url: str = ""
    message: str
    approval: dict | None = None


class VehicleDetailOut(VehicleOut):
    approvals: list[ApprovalOut]
    audit_reasons: list[Reason]


class VehicleIn(Schema):
    plate: str
    vin: str
    category: str
    energy_type: str
    purchase_price: float
    purchase_date: date
    agency_id: int
    displacement_l: float | None = None
    body_type: str = "sedan"
    brand_model: str = ""
    odometer_km: float = 0
    seats: int = 5
    tank_l: float | None = None
    fuel_norm_l_100km: float | None = None
    is_domestic: bool = True
    status: str = "in_service"
    garage_id: int | None = None
    terminal_number: str = ""
    notes: str = ""


class VehiclePatch(Schema):
    plate: str | None = None
    vin: str | None = None
    category: str | None = None
    energy_type: str | None = None
    purchase_price: float | None = None
    purchase_date: date | None = None
    agency_id: int | None = None
    displacement_l: float | None = None
    body_type: str | None = None
    brand_model: str | None = None
    odometer_km: float | None = None
    seats: int | None = None
    tank_l: float | None = None
    fuel_norm_l_100km: float | None = None
    is_domestic: bool | None = None
    status: str | None = None
    garage_id: int | None = None
    terminal_number: str | None = None
    notes: str | None = None


class VehicleFilter(Schema):
    agency: int | None = Field(None, description="单位 id（含下级单位）")
    only: bool = Field(False, description="只看该单位本身，不含下级")
    category: str | None = Field(None, description="JYTX / YJBZ / ZFZQ / TZZY / QT 或中文名称")
    status: str | None = Field(None, description="in_service / sealed / in_repair / disposed")
    energy: str | None = Field(None, description="能源类型代码，或 new_energy（全部新能源）")
    q: str | None = Field(None, description="车牌号或车架号中的文字")
    terminal: str | None = Field(None, description="终端手机号（忽略前导0）")


class DriverOut(Schema):
    id: int
    agency_id: int
    agency: str = Field(alias="agency.name")
    name: str
    phone: str
    licence_number: str
    licence_class: str
    licence_expiry: date
    user_id: int | None
    is_active: bool


class DriverIn(Schema):
    agency_id: int
    name: str
    licence_number: str
    licence_expiry: date
    licence_class: str = "C1"
    phone: str = ""
    is_active: bool = True


class DriverPatch(Schema):
    agency_id: int | None = None
    name: str | None = None
    licence_number: str | None = None
    licence_expiry: date | None = None
    licence_class: str | None = None
    phone: str | None = None
    is_active: bool | None = None


class QuotaOut(Schema):
    id: int
    agency_id: int
    agency: str = Field(alias="agency.name")
    category: str
    category_label: str = Field(alias="get_category_display")
    quota: int
    basis: str
    actual: int | None = None


class QuotaIn(Schema):
    agency_id: int
    category: str
    quota: int = Field(ge=0)
    basis: str = ""


class StandardOut(Schema):
    id: int
    key: str
    category: str
    category_label: str = Field(alias="get_category_display")
    body_types: str
    new_energy_only: bool
    tier: str
    tier_label: str = Field(alias="get_tier_display")
    max_displacement_l: float | None
    max_price: float | None
    region: str | None
    source: str
    source_url: str
    effective_from: date | None
    is_active: bool

    @staticmethod
    def resolve_max_displacement_l(obj) -> float | None:
        return _num(obj.max_displacement_l)

    @staticmethod
    def resolve_max_price(obj) -> float | None:
        return _num(obj.max_price)

    @staticmethod
    def resolve_region(obj) -> str | None:
        return obj.region.code if obj.region_id else None


class StandardPatch(Schema):
    body_types: str | None = None
    new_energy_only: bool | None = None
    tier: str | None = None
    max_displacement_l: float | None = None
    max_price: float | None = None
    source: str | None = None
    source_url: str | None = None
    effective_from: date | None = None
    is_active: bool | None = None


class GarageOut(Schema):
    id: int
    agency_id: int
    agency: str = Field(alias="agency.name")
    name: str
    address: str
    lat: float
    lon: float
    radius_m: int


class GarageIn(Schema):
    agency_id: int
    name: str
    lat: float
    lon: float
    address: str = ""
    radius_m: int = Field(150, ge=10, le=5000)


class ApprovalIn(Schema):
    vehicle_id: int
    tier: str
    reason: str
    approved_by: str
    document_number: str
    approved_on: date


class OverStandardOut(Schema):
    plate: str
    vehicle_id: int
    agency: str
    agency_id: int
    category: str
    reasons: list[Reason]


class OverQuotaOut(Schema):
    agency: str
    agency_id: int
    category: str
    category_label: str
    quota: int
    actual: int
    basis: str = ""


class AuditOut(Schema):
    over_standard: list[OverStandardOut]
    over_quota: list[OverQuotaOut]
    no_quota: list[str]
    checked: int
    agency: str | None = None


class ImportError_(Schema):
    row: int
    column: str
    message: str


class ImportOut(Schema):
    errors: list[ImportError_]
    imported: int
    updated: int
    unchanged: int
    rows: int
    failed: bool
    message: str

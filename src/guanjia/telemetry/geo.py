"""Geometry for the rules, the trips and the map.

* Distances: `haversine_km` (one pair) and `haversine_km_many` (numpy arrays), on a sphere
  of the IUGG mean radius — good to ~0.5 % for the distances a car drives.
* Areas: GeoJSON polygons through shapely, tested many points at a time with
  `shapely.contains_xy` (a batch of positions is one call per area, not one per point);
  circles (garages, circular geofences) by haversine.
* The provinces: `static/telemetry/geo/{500000,510000}.geojson` are the outlines of
  Chongqing and Sichuan (their district/prefecture features), decoded from the ECharts
  4.9.0 npm package's `map/json/province/*.json` (Apache-2.0, see the README.md beside
  them); `province_geometry` gives the dissolved outline of a province for the jurisdiction rule.
* Datum: positions stay as reported (WGS-84) everywhere — stored, compared, returned by the
  API. `wgs84_to_gcj02` exists for a basemap drawn in GCJ-02 (the national survey offset
  used by AMap/Tencent); the offline ECharts map here is an outline of provinces whose
  few-hundred-metre datum offset is invisible at province scale, so the live map draws the
  reported WGS-84 coordinates unconverted (see static/telemetry/live.js).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

GEO_DIR = Path(__file__).resolve().parent / "static" / "telemetry" / "geo"
EARTH_RADIUS_KM = 6371.0088
PROVINCES = {"500000": "重庆市", "510000": "四川省"}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def haversine_km_many(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Element-wise haversine over numpy arrays (or scalars broadcast against arrays)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def within_circle(lat: float, lon: float, c_lat: float, c_lon: float, radius_m: float) -> bool:
    return haversine_km(lat, lon, c_lat, c_lon) * 1000.0 <= radius_m


# -- polygons ----------------------------------------------------------------------------


def geometry(geojson: dict):
    """A shapely geometry (prepared for repeated tests) from GeoJSON: a geometry, a Feature
    or a FeatureCollection (dissolved into one)."""
    import shapely
    from shapely.geometry import shape

    if geojson.get("type") == "FeatureCollection":
        parts = [shapely.make_valid(shape(f["geometry"])) for f in geojson["features"]]
        geom = shapely.union_all(parts)
    elif geojson.get("type") == "Feature":
        geom = shape(geojson["geometry"])
    else:
        geom = shape(geojson)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    shapely.prepare(geom)
    return geom


RASTER_CELL_DEG = 0.02  # ~2 km: a province has ~250,000 cells, built once in ~0.1 s
RASTER_MIN_POINTS = 5_000  # below this, testing the points directly is as fast
_rasters: dict[int, tuple] = {}


class Raster:
    """A grid over a geometry's bounds whose cells are known to lie wholly inside (1),
    wholly outside (0) or across the boundary (2); only points in boundary cells are
    tested exactly. Same answers as shapely, a few per cent of the work for a province."""

    def __init__(self, geom, cell: float = RASTER_CELL_DEG):
        import shapely

        self.geom, self.cell = geom, cell
        x0, y0, x1, y1 = geom.bounds
        self.x0, self.y0 = x0, y0
        self.nx = max(1, int(np.ceil((x1 - x0) / cell)))
        self.ny = max(1, int(np.ceil((y1 - y0) / cell)))
        # boundary cells: every cell within one cell of a vertex of the densified rings
        # (vertices at most half a cell apart, so no crossed cell is missed)
        pts = shapely.get_coordinates(shapely.segmentize(geom, cell / 2))
        edge = np.zeros((self.nx + 2, self.ny + 2), dtype=bool)
        bx = np.floor((pts[:, 0] - x0) / cell).astype(np.int64) + 1
        by = np.floor((pts[:, 1] - y0) / cell).astype(np.int64) + 1
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                edge[np.clip(bx + dx, 0, self.nx + 1), np.clip(by + dy, 0, self.ny + 1)] = True
        edge = edge[1:-1, 1:-1]
        # the other cells are wholly on one side: their centre says which
        cx = x0 + (np.arange(self.nx) + 0.5) * cell
        cy = y0 + (np.arange(self.ny) + 0.5) * cell
        gx, gy = np.meshgrid(cx, cy, indexing="ij")
        centre_in = shapely.intersects_xy(geom, gx.ravel(), gy.ravel()).reshape(edge.shape)
        self.state = np.where(edge, 2, np.where(centre_in, 1, 0)).astype(np.int8).ravel()

    def contains_many(self, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
        import shapely

        ix = np.floor((lons - self.x0) / self.cell).astype(np.int64)
        iy = np.floor((lats - self.y0) / self.cell).astype(np.int64)
        in_grid = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        state = np.zeros(lats.size, dtype=np.int8)
        state[in_grid] = self.state[ix[in_grid] * self.ny + iy[in_grid]]
        out = state == 1
        edge = np.flatnonzero(state == 2)
        if edge.size:
            out[edge] = shapely.intersects_xy(self.geom, lons[edge], lats[edge])
        return out


def raster(geom) -> Raster:
    hit = _rasters.get(id(geom))
    if hit is None or hit[0] is not geom:
        hit = _rasters[id(geom)] = (geom, Raster(geom))
    return hit[1]


def contains_many(geom, lats, lons) -> np.ndarray:
    """Which of the points (arrays of lat, lon) lie inside `geom` (boundary counts as in).
    Many points at once go through the geometry's Raster (built on first use, kept)."""
    import shapely

    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    if lons.size == 0:
        return np.zeros(0, dtype=bool)
    if lons.size >= RASTER_MIN_POINTS:
        return raster(geom).contains_many(lats, lons)
    return shapely.intersects_xy(geom, lons, lats)


def contains(geom, lat: float, lon: float) -> bool:
    return bool(contains_many(geom, [lat], [lon])[0])


@lru_cache(maxsize=8)
def province_geojson(code: str) -> dict:
    path = GEO_DIR / f"{code}.geojson"
    if not path.exists():
        raise LookupError(f"没有省级行政区 {code} 的边界数据")
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=8)
def province_geometry(code: str):
    """The dissolved outline of a province (GB/T 2260 code ending in 0000)."""
    return geometry(province_geojson(code))


def province_of(region_code: str | None) -> str | None:
    """The province (xx0000) a GB/T 2260 region code lies in, if we have its outline."""
    if not region_code or len(region_code) < 2:
        return None
    code = region_code[:2] + "0000"
    return code if code in PROVINCES else None


# -- datum -------------------------------------------------------------------------------

_A = 6378245.0
_EE = 0.00669342162296594323


def _out_of_china(lat, lon):
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _transform_lat(x, y):
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x, y):
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat, lon):
    """WGS-84 → GCJ-02 (the published polynomial approximation of the national offset;
    points outside China are returned unchanged). Scalars or numpy arrays. For display on
    a GCJ-02 basemap only — never store the result."""
    lat_a = np.asarray(lat, dtype=float)
    lon_a = np.asarray(lon, dtype=float)
    dlat = _transform_lat(lon_a - 105.0, lat_a - 35.0)
    dlon = _transform_lon(lon_a - 105.0, lat_a - 35.0)
    radlat = lat_a / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = _out_of_china(lat_a, lon_a)
    g_lat = np.where(outside, lat_a, lat_a + dlat)
    g_lon = np.where(outside, lon_a, lon_a + dlon)
    if g_lat.ndim == 0:
        return float(g_lat), float(g_lon)
    return g_lat, g_lon


# -- the ECharts map packages' compressed GeoJSON ------------------------------------------


def _decode_ring(text: str, offsets, scale: float) -> list[list[float]]:
    out = []
    px, py = offsets[0], offsets[1]
    for i in range(0, len(text) - 1, 2):
        x = ord(text[i]) - 64
        y = ord(text[i + 1]) - 64
        x = (x >> 1) ^ (-(x & 1))  # zigzag
        y = (y >> 1) ^ (-(y & 1))
        px += x
        py += y
        out.append([round(px / scale, 5), round(py / scale, 5)])
    return out


def decode_echarts_geojson(data: dict) -> dict:
    """Plain GeoJSON from the "UTF8Encoding" form the ECharts map packages ship (pairs of
    characters holding zigzag-encoded deltas from an offset, coordinates × 1024)."""
    if not data.get("UTF8Encoding"):
        return data
    scale = data.get("UTF8Scale") or 1024
    features = []
    for feature in data["features"]:
        geom = feature["geometry"]
        offsets = geom.get("encodeOffsets")
        if geom["type"] == "Polygon":
            coords = [_decode_ring(r, offsets[i], scale) for i, r in enumerate(geom["coordinates"])]
        elif geom["type"] == "MultiPolygon":
            coords = [
                [_decode_ring(r, offsets[i][j], scale) for j, r in enumerate(poly)]
                for i, poly in enumerate(geom["coordinates"])
            ]
        else:
            coords = geom["coordinates"]
        features.append(
            {
                "type": "Feature",
                "id": feature.get("id"),
                "properties": {
                    k: v for k, v in feature.get("properties", {}).items() if k != "childNum"
                },
                "geometry": {"type": geom["type"], "coordinates": coords},
            }
        )
    return {"type": "FeatureCollection", "features": features}

"""Geometry: distances, the province outlines, fences, the datum conversion, the decoder of
the ECharts map packages' compressed GeoJSON."""

import numpy as np
import pytest

from guanjia.telemetry import geo


def test_haversine_agrees_with_known_distances():
    # 成都 天府广场 → 重庆 解放碑: Δlat 1.0997° ≈ 122.3 km, Δlon 2.5113° ≈ 241.8 km at 30.1° N
    assert geo.haversine_km(30.6574, 104.0657, 29.5577, 106.5770) == pytest.approx(271, abs=1.5)
    one_degree = geo.haversine_km(30.0, 104.0, 31.0, 104.0)
    assert one_degree == pytest.approx(111.2, abs=0.1)
    many = geo.haversine_km_many(
        np.array([30.0, 30.0]),
        np.array([104.0, 104.0]),
        np.array([31.0, 30.0]),
        np.array([104.0, 104.0]),
    )
    assert many.tolist() == pytest.approx([one_degree, 0.0])


def test_province_outlines():
    sc, cq = geo.province_geometry("510000"), geo.province_geometry("500000")
    cities = {
        "成都": (30.66, 104.07, sc),
        "绵阳": (31.47, 104.68, sc),
        "攀枝花": (26.58, 101.72, sc),
        "重庆渝中": (29.56, 106.57, cq),
        "大足": (29.70, 105.72, cq),
        "万州": (30.81, 108.41, cq),
    }
    for name, (lat, lon, home) in cities.items():
        other = cq if home is sc else sc
        assert geo.contains(home, lat, lon), name
        assert not geo.contains(other, lat, lon), name
    assert not geo.contains(sc, 39.90, 116.40)  # 北京
    assert geo.province_of("500111") == "500000" and geo.province_of("110101") is None


def test_gcj02_offset_is_a_few_hundred_metres_in_chengdu_and_none_abroad():
    lat, lon = geo.wgs84_to_gcj02(30.66, 104.07)
    shift_m = geo.haversine_km(30.66, 104.07, lat, lon) * 1000
    assert 200 < shift_m < 700
    assert geo.wgs84_to_gcj02(48.85, 2.35) == (48.85, 2.35)  # Paris is left alone


def test_decoding_the_echarts_compressed_form():
    # one ring: offset (104*1024, 30*1024), deltas (+1024, 0) and (0, +1024) zigzag-encoded
    def enc(v):
        z = (v << 1) ^ (v >> 31)
        return z

    def pair(dx, dy):
        return chr(enc(dx) + 64) + chr(enc(dy) + 64)

    data = {
        "UTF8Encoding": True,
        "features": [
            {
                "id": "1",
                "properties": {"name": "方块", "childNum": 1},
                "geometry": {
                    "type": "Polygon",
                    "encodeOffsets": [[104 * 1024, 30 * 1024]],
                    "coordinates": [pair(0, 0) + pair(512, 0) + pair(0, 512) + pair(-512, 0)],
                },
            }
        ],
    }
    out = geo.decode_echarts_geojson(data)
    ring = out["features"][0]["geometry"]["coordinates"][0]
    assert ring == [[104.0, 30.0], [104.5, 30.0], [104.5, 30.5], [104.0, 30.5]]
    assert out["features"][0]["properties"] == {"name": "方块"}


def test_the_raster_answers_exactly_as_shapely():
    import shapely

    rng = np.random.default_rng(5)
    lats = rng.uniform(25.5, 34.5, 300_000)
    lons = rng.uniform(97.0, 110.5, 300_000)
    for code in ("510000", "500000"):
        g = geo.province_geometry(code)
        fast = geo.contains_many(g, lats, lons)  # many points: through the raster
        assert (fast == shapely.intersects_xy(g, lons, lats)).all()
        assert 0.02 < fast.mean() < 0.6

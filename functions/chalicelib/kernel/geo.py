"""Distances and geohash cells for finding the stores that deliver to a point."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8
_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
# Precision 4 cells are about 20 km x 39 km at Shanghai's latitude: a search circle of up
# to 10 km touches one to four of them, so the search costs one to four index queries.
CELL_PRECISION = 4


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def geohash(lat: float, lng: float, precision: int = CELL_PRECISION) -> str:
    """Standard geohash of a point."""
    lat_lo, lat_hi, lng_lo, lng_hi = -90.0, 90.0, -180.0, 180.0
    out: list[str] = []
    bits = 0
    ch = 0
    even = True
    while len(out) < precision:
        if even:
            mid = (lng_lo + lng_hi) / 2
            if lng >= mid:
                ch = (ch << 1) | 1
                lng_lo = mid
            else:
                ch <<= 1
                lng_hi = mid
        else:
            mid = (lat_lo + lat_hi) / 2
            if lat >= mid:
                ch = (ch << 1) | 1
                lat_lo = mid
            else:
                ch <<= 1
                lat_hi = mid
        even = not even
        bits += 1
        if bits == 5:
            out.append(_BASE32[ch])
            bits = 0
            ch = 0
    return "".join(out)


def cell_size_deg(precision: int = CELL_PRECISION) -> tuple[float, float]:
    """(latitude, longitude) span of one cell in degrees."""
    lng_bits = math.ceil(precision * 5 / 2)
    lat_bits = precision * 5 // 2
    return 180.0 / 2**lat_bits, 360.0 / 2**lng_bits


def cells_covering(
    lat: float, lng: float, radius_m: float, precision: int = CELL_PRECISION
) -> list[str]:
    """Every cell that a circle of ``radius_m`` around the point touches (via its bounding box)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlng = math.degrees(radius_m / (EARTH_RADIUS_M * max(math.cos(math.radians(lat)), 1e-6)))
    south, north = max(lat - dlat, -89.999999), min(lat + dlat, 89.999999)
    west, east = lng - dlng, lng + dlng
    step_lat, step_lng = (s / 2 for s in cell_size_deg(precision))
    cells: list[str] = []
    y = south
    while True:
        x = west
        while True:
            wrapped = ((x + 180.0) % 360.0) - 180.0
            cell = geohash(y, wrapped, precision)
            if cell not in cells:
                cells.append(cell)
            if x >= east:
                break
            x = min(x + step_lng, east)
        if y >= north:
            break
        y = min(y + step_lat, north)
    return cells

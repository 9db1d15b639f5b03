from chalicelib.kernel import geo

JINGAN = (31.2236, 121.4457)


def test_distance_matches_known_city_distance():
    # People's Square to Lujiazui is about 3.3 km in a straight line.
    d = geo.distance_m(31.2317, 121.4726, 31.2397, 121.4998)
    assert 2_500 < d < 3_500
    assert geo.distance_m(*JINGAN, *JINGAN) == 0


def test_geohash_known_value():
    # Reference value from the geohash definition (Jutland example).
    assert geo.geohash(57.64911, 10.40744, 11) == "u4pruydqqvj"


def test_cells_covering_contains_every_point_of_the_circle():
    cells = set(geo.cells_covering(*JINGAN, 10_000))
    assert 1 <= len(cells) <= 9
    for dlat in (-0.089, 0, 0.089):
        for dlng in (-0.104, 0, 0.104):
            point = (JINGAN[0] + dlat, JINGAN[1] + dlng)
            if geo.distance_m(*JINGAN, *point) <= 10_000:
                assert geo.geohash(*point) in cells


def test_cells_covering_a_point_next_to_a_cell_edge_includes_the_neighbour():
    lat_span, _ = geo.cell_size_deg()
    # A point just south of a cell boundary: the 2 km circle crosses into the cell north.
    boundary = round(31.2 / lat_span) * lat_span
    cells = geo.cells_covering(boundary - 0.001, 121.45, 2_000)
    assert geo.geohash(boundary + 0.001, 121.45) in cells
    assert geo.geohash(boundary - 0.001, 121.45) in cells

"""Independent checks for minqing's tests: TileJSON against its JSON schema, and vector
tiles decoded by Mapbox's Python decoder (not minqing's own).

Reads a manifest on stdin:
  {"schema": PATH, "tilejson": {NAME: PATH}, "tiles": {NAME: PATH},
   "exact": {"points": [[LON, LAT], ...], "tiles": [[Z, X, Y], ...], "pad": BUFFER / EXTENT,
             "near": DEGREES}}
Prints JSON:
  {"validator": CLASS NAME, "tilejson": {NAME: [error, ...]},
   "tiles": {NAME: {LAYER: {"extent": N, "version": N, "features": [
       {"id": ID, "type": GEOMETRY TYPE, "properties": {...},
        "bounds": [minx, miny, maxx, maxy], "geometry": COORDINATES}]}}}}
Coordinates are tile-local, y down, as stored in the tile. A feature without an id has
"id": null (the decoder itself reports the protobuf default 0).
  "exact": [{"owned": [POINT INDEX, ...], "owned_ambiguous": [...],
              "buffered": [...], "buffered_ambiguous": [...]} per tile]
Whether a tile owns a point (the half-open box [west, east) x (south, north]) and whether
its buffered box (closed, grown by `pad` of a tile) holds it, decided exactly: rational
arithmetic for longitudes, 60 digits for latitudes. For points on or a hair off tile edges,
where tile bounds computed in double precision (PostGIS's or minqing's) can round either
way; "_ambiguous" lists the points off an edge of the box by less than `near` degrees (but
not exactly on it).
"""

import json
import sys
from fractions import Fraction

import jsonschema
import mapbox_vector_tile
import mpmath
from mapbox_vector_tile.Mapbox import vector_tile_pb2


def flatten(coords):
    if coords and isinstance(coords[0], (int, float)):
        yield coords
        return
    for c in coords:
        yield from flatten(c)


def mp(q):
    """A Fraction as an mpmath number."""
    return mpmath.mpf(q.numerator) / q.denominator


def exact(spec):
    """Tile membership of points near tile edges, decided exactly (see the module doc)."""
    mpmath.mp.dps = 60
    pad = Fraction(spec["pad"])
    near = mpmath.mpf(spec["near"])
    points = [(Fraction(lon), mpmath.mpf(lat)) for lon, lat in spec["points"]]
    out = []
    for z, x, y in spec["tiles"]:
        n = 2**z
        boxes = {
            # Columns x0..x1 and rows y0..y1 (y down); whether the east and south edges are in.
            "owned": (Fraction(x), Fraction(x + 1), Fraction(y), Fraction(y + 1), False),
            "buffered": (x - pad, x + 1 + pad, y - pad, y + 1 + pad, True),
        }
        res = {}
        for name, (x0, x1, y0, y1, closed) in boxes.items():
            west, east = (c / n * 360 - 180 for c in (x0, x1))
            north, south = (
                mpmath.degrees(mpmath.atan(mpmath.sinh(mpmath.pi * (1 - 2 * mp(r) / n))))
                for r in (y0, y1)
            )
            inside, ambiguous = [], []
            for i, (lon, lat) in enumerate(points):
                # The west and north edges are in the box; the east and south ones only when
                # it is closed.
                in_x = west <= lon and (lon <= east if closed else lon < east)
                in_y = lat <= north and (lat >= south if closed else lat > south)
                if in_x and in_y:
                    inside.append(i)
                # A hair off an edge (0 < distance < near degrees): double-precision tile
                # bounds may put the point on either side.
                d = [mp(abs(lon - west)), mp(abs(lon - east)), abs(lat - north), abs(lat - south)]
                if any(0 < v < near for v in d):
                    ambiguous.append(i)
            res[name] = inside
            res[name + "_ambiguous"] = ambiguous
        out.append(res)
    return out


def main():
    manifest = json.load(sys.stdin)
    with open(manifest["schema"], encoding="utf-8") as f:
        schema = json.load(f)
    # The draft the schema's "$schema" names; the TileJSON 3.0.0 schema names none, so
    # jsonschema's latest draft (2020-12). It uses only keywords every draft reads alike.
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    out = {"validator": validator_class.__name__, "tilejson": {}, "tiles": {}}
    for name, path in manifest.get("tilejson", {}).items():
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        out["tilejson"][name] = [e.message for e in validator.iter_errors(doc)]
    for name, path in manifest.get("tiles", {}).items():
        with open(path, "rb") as f:
            data = f.read()
        decoded = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
        raw = vector_tile_pb2.tile()
        raw.ParseFromString(data)
        raw_layers = {layer.name: layer for layer in raw.layers}
        layers = {}
        for layer_name, layer in decoded.items():
            raw_features = raw_layers[layer_name].features
            assert len(raw_features) == len(layer["features"])
            features = []
            for feat, raw_feat in zip(layer["features"], raw_features):
                geom = feat["geometry"]
                pts = list(flatten(geom["coordinates"]))
                xs = [p[0] for p in pts]
                ys = [p[1] for p in pts]
                features.append(
                    {
                        "id": feat["id"] if raw_feat.HasField("id") else None,
                        "type": geom["type"],
                        "properties": feat["properties"],
                        "bounds": [min(xs), min(ys), max(xs), max(ys)] if pts else None,
                        "geometry": geom["coordinates"],
                    }
                )
            layers[layer_name] = {
                "extent": layer["extent"],
                "version": raw_layers[layer_name].version,
                "features": features,
            }
        out["tiles"][name] = layers
    if "exact" in manifest:
        out["exact"] = exact(manifest["exact"])
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()

"""Independent checks for minqing's tests: TileJSON against its JSON schema, and vector
tiles decoded by Mapbox's Python decoder (not minqing's own).

Reads a manifest on stdin:
  {"schema": PATH, "tilejson": {NAME: PATH}, "tiles": {NAME: PATH}}
Prints JSON:
  {"tilejson": {NAME: [error, ...]},
   "tiles": {NAME: {LAYER: {"extent": N, "features": [
       {"id": ID, "type": GEOMETRY TYPE, "properties": {...},
        "bounds": [minx, miny, maxx, maxy], "geometry": COORDINATES}]}}}}
Coordinates are tile-local, y down, as stored in the tile.
"""

import json
import sys

import jsonschema
import mapbox_vector_tile


def flatten(coords):
    if coords and isinstance(coords[0], (int, float)):
        yield coords
        return
    for c in coords:
        yield from flatten(c)


def main():
    manifest = json.load(sys.stdin)
    with open(manifest["schema"], encoding="utf-8") as f:
        schema = json.load(f)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    out = {"tilejson": {}, "tiles": {}}
    for name, path in manifest.get("tilejson", {}).items():
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        out["tilejson"][name] = [e.message for e in validator.iter_errors(doc)]
    for name, path in manifest.get("tiles", {}).items():
        with open(path, "rb") as f:
            data = f.read()
        decoded = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
        layers = {}
        for layer_name, layer in decoded.items():
            features = []
            for feat in layer["features"]:
                geom = feat["geometry"]
                pts = list(flatten(geom["coordinates"]))
                xs = [p[0] for p in pts]
                ys = [p[1] for p in pts]
                features.append(
                    {
                        "id": feat.get("id"),
                        "type": geom["type"],
                        "properties": feat["properties"],
                        "bounds": [min(xs), min(ys), max(xs), max(ys)] if pts else None,
                        "geometry": geom["coordinates"],
                    }
                )
            layers[layer_name] = {"extent": layer["extent"], "features": features}
        out["tiles"][name] = layers
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()

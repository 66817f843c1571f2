// The map shared by the three pages: a plain background (or a configured basemap) and
// minqing's own vector tile layers (areas, events, heat), all from the same origin.

import { authHeaders, getToken } from './api.js';

const maplibregl = window.maplibregl;

/** The font stack minqing serves at /fonts/{fontstack}/{range}.pbf. */
export const FONT = 'Noto Sans CJK SC Regular';

/** Local fonts for Chinese labels when they are drawn in the browser. */
const LOCAL_CJK_FONTS = "'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif";

/** Colours of the top-level categories of the taxonomy (other codes: grey). */
export const CATEGORY_COLORS = {
  hazard: '#d32f2f',
  dispute: '#f57c00',
  service: '#388e3c',
  petition: '#7b1fa2',
  public_order: '#1a237e',
  environment: '#0097a7',
  urban: '#6d4c41',
  traffic: '#c2185b',
  epidemic: '#9e9d24',
};
export const OTHER_COLOR = '#757575';
export const OVERDUE_COLOR = '#e53935';

/** The colour of a category code (top level or `category.subcategory`). */
export function categoryColor(code) {
  return CATEGORY_COLORS[(code || '').split('.')[0]] || OTHER_COLOR;
}

/** `match` expression: the colour of a feature's top-level category property. */
export function categoryColorExpr(prop = 'category') {
  const pairs = Object.entries(CATEGORY_COLORS).flat();
  return ['match', ['get', prop], ...pairs, OTHER_COLOR];
}

/** The colour of a cluster: that of its most frequent category (`count_<category>`). */
function clusterColorExpr() {
  const cats = Object.keys(CATEGORY_COLORS);
  const counts = cats.map((c) => ['coalesce', ['get', `count_${c}`], 0]);
  const max = ['max', ...counts];
  return ['case', ...cats.flatMap((c, i) => [['==', counts[i], max], CATEGORY_COLORS[c]]), OTHER_COLOR];
}

/**
 * A layer's TileJSON, with its tile URL moved onto this page's origin (the server writes
 * the Host it was asked with; behind a proxy the page's own origin is the right one).
 * `query` (`?type=…`) is for layers whose TileJSON needs a filter (`coverage`); the
 * template keeps the path only, filters are added by `tilesUrl`.
 */
export async function tileJson(layer, query = '') {
  let tj = query ? null : await early(`tiles/${layer}`);
  if (!tj) {
    const r = await fetch(`/tiles/${layer}${query}`);
    if (!r.ok) throw new Error(`TileJSON of ${layer}: ${r.status}`);
    tj = await r.json();
  }
  const u = new URL(tj.tiles[0], location.origin);
  tj.template = `${location.origin}${decodeURI(u.pathname)}`;
  return tj;
}

/** The tiles URL of a TileJSON with filters as query parameters (empty values left out). */
export function tilesUrl(tj, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `${tj.template}?${s}` : tj.template;
}

/** Where the map starts before the areas' bounds are known (Shanwei). */
const START = { center: [115.6, 22.95], zoom: 8 };

/** A request started by the page's inline script (while maplibre-gl.js loads), once. */
export function early(path) {
  const p = window.mqEarly && window.mqEarly[path];
  if (p) delete window.mqEarly[path];
  return p;
}

/**
 * Creates a map in `container`: `{map, tj: {areas, events, heat}}` once its layers are in.
 * The map (WebGL, workers) is made at once, while the TileJSONs and the settings load;
 * `options.parts(tj)` then gives the style parts (`{sources, layers}`) drawn over the
 * basemap. Requests to this origin carry the token.
 */
export async function createMap(container, config, options = {}) {
  const layers = options.layers || ['areas', 'events', 'heat'];
  const tjPromise = Promise.all(layers.map((l) => tileJson(l)));
  const map = new maplibregl.Map({
    container,
    style: {
      version: 8,
      glyphs: `${location.origin}/fonts/{fontstack}/{range}.pbf`,
      sources: {},
      layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#eef1f4' } }],
    },
    center: options.center || START.center,
    zoom: options.zoom ?? START.zoom,
    maxZoom: 19,
    fadeDuration: 0,
    attributionControl: { compact: true },
    // Every label glyph comes from minqing's /fonts (made from Noto Sans CJK on the
    // server): the map looks the same on every screen, CJK fonts installed or not.
    // `"server_glyphs": false` in config.json lets the browser draw Chinese characters
    // from its own fonts instead (MapLibre's localIdeographFontFamily).
    localIdeographFontFamily: config.server_glyphs === false ? LOCAL_CJK_FONTS : false,
    transformRequest: (url) => {
      if (url.startsWith(location.origin) && getToken() && !url.includes('/fonts/')) {
        return { url, headers: authHeaders() };
      }
      return { url };
    },
    ...(options.map || {}),
  });
  options.onCreate?.(map);
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
  const styled = new Promise((resolve) => (map.isStyleLoaded() ? resolve() : map.once('style.load', resolve)));
  const [tjs] = await Promise.all([tjPromise, styled]);
  const tj = Object.fromEntries(layers.map((l, i) => [l, tjs[i]]));
  await addBasemap(map, config);
  if (!options.center && tj.areas?.bounds) {
    const [w, s, e, n] = tj.areas.bounds;
    map.fitBounds([[w, s], [e, n]], { padding: 20, animate: false });
  }
  for (const part of options.parts ? options.parts(tj) : []) {
    for (const [id, src] of Object.entries(part.sources)) map.addSource(id, src);
    for (const layer of part.layers) map.addLayer(layer);
  }
  return { map, tj };
}

/** A configured basemap under minqing's layers: raster tiles, or a vector style's layers. */
async function addBasemap(map, config) {
  if (config.basemap) {
    map.addSource('basemap', {
      type: 'raster',
      tiles: [config.basemap],
      tileSize: 256,
      maxzoom: config.basemap_max_zoom || 18,
      attribution: config.basemap_attribution || '',
    });
    map.addLayer({ id: 'basemap', type: 'raster', source: 'basemap', paint: { 'raster-opacity': 0.85 } });
  }
  if (config.basemap_style) {
    try {
      const s = await (await fetch(config.basemap_style)).json();
      for (const [id, src] of Object.entries(s.sources || {})) map.addSource(`basemap-${id}`, src);
      for (const l of s.layers || []) {
        if (l.type === 'background') continue;
        const layer = { ...l, id: `basemap-${l.id}` };
        if (l.source) layer.source = `basemap-${l.source}`;
        // Basemap labels use minqing's font (its glyphs are the style's).
        if (l.type === 'symbol' && l.layout && l.layout['text-field']) layer.layout = { ...l.layout, 'text-font': [FONT] };
        map.addLayer(layer);
      }
    } catch (e) {
      console.warn('minqing: basemap style not loaded', e);
    }
  }
}

/** Area boundaries with their names; the level follows the zoom (the server picks it). */
export function areasStyle(tj, { labels = true, tint = true } = {}) {
  const layers = [];
  const sources = {};
  sources.areas = {
    type: 'vector',
    tiles: [tilesUrl(tj)],
    minzoom: tj.minzoom,
    maxzoom: Math.min(tj.maxzoom, 16),
    bounds: tj.bounds,
  };
  layers.push({
    id: 'areas-fill',
    type: 'fill',
    source: 'areas',
    'source-layer': 'areas',
    paint: {
      'fill-color': tint
        ? ['step', ['coalesce', ['get', 'overdue'], 0], '#90a4ae', 1, '#ffcc80', 5, '#ffa726', 20, '#ef6c00', 100, '#d84315']
        : '#90a4ae',
      'fill-opacity': ['case', ['boolean', ['feature-state', 'hover'], false], 0.45, 0.22],
    },
  });
  layers.push({
    id: 'areas-line',
    type: 'line',
    source: 'areas',
    'source-layer': 'areas',
    paint: {
      'line-color': ['match', ['get', 'level'], 'district', '#37474f', 'street', '#455a64', 'community', '#607d8b', '#78909c'],
      'line-width': ['match', ['get', 'level'], 'district', 1.8, 'street', 1.3, 'community', 1, 0.7],
    },
  });
  layers.push({
    id: 'areas-selected',
    type: 'line',
    source: 'areas',
    'source-layer': 'areas',
    filter: selectedFilter(-1),
    paint: { 'line-color': '#1565c0', 'line-width': 3 },
  });
  if (labels) {
    layers.push({
      id: 'areas-label',
      type: 'symbol',
      source: 'areas',
      'source-layer': 'areas',
      layout: {
        'text-field': ['get', 'name'],
        'text-font': [FONT],
        'text-size': ['match', ['get', 'level'], 'district', 15, 'street', 13, 12],
        'text-max-width': 8,
        'text-padding': 4,
      },
      paint: { 'text-color': '#263238', 'text-halo-color': 'rgba(255,255,255,0.9)', 'text-halo-width': 1.4 },
    });
  }
  return { sources, layers };
}

/** Density of events (`heat` tiles), hidden until shown. */
export function heatStyle(tj, params, { visible = false } = {}) {
  const sources = {};
  const layers = [];
  sources.heat = {
    type: 'vector',
    tiles: [tilesUrl(tj, params)],
    minzoom: tj.minzoom,
    maxzoom: Math.min(tj.maxzoom, 16),
    bounds: tj.bounds,
  };
  layers.push({
    id: 'heat',
    type: 'heatmap',
    source: 'heat',
    'source-layer': 'heat',
    layout: { visibility: visible ? 'visible' : 'none' },
    paint: {
      // Cells hold counts (64 × 64 cells a tile): far out they hold many more events, so
      // the weight is the log of the count against a scale that shrinks with the zoom.
      'heatmap-weight': ['interpolate', ['linear'], ['zoom'], ...[[6, 7], [10, 5], [14, 3], [18, 1.5]].flatMap(([z, scale]) => [z, ['min', 1, ['/', ['ln', ['+', 1, ['get', 'weight']]], scale]]])],
      'heatmap-intensity': ['interpolate', ['linear'], ['zoom'], 6, 0.5, 14, 1.2],
      'heatmap-radius': ['interpolate', ['linear'], ['zoom'], 6, 8, 12, 16, 16, 26],
      'heatmap-opacity': 0.85,
      'heatmap-color': [
        'interpolate', ['linear'], ['heatmap-density'],
        0, 'rgba(33,102,172,0)',
        0.2, '#67a9cf',
        0.4, '#d1e5f0',
        0.6, '#fddbc7',
        0.8, '#ef8a62',
        1, '#b2182b',
      ],
    },
  });
  return { sources, layers };
}

/** Events: clusters with counts far out, single events (category colour, overdue ring) close in. */
export function eventsStyle(tj, params) {
  const sources = {};
  const layers = [];
  sources.events = {
    type: 'vector',
    tiles: [tilesUrl(tj, params)],
    minzoom: tj.minzoom,
    maxzoom: Math.min(tj.maxzoom, 14),
    bounds: tj.bounds,
  };
  const cluster = ['has', 'point_count'];
  layers.push({
    id: 'clusters',
    type: 'circle',
    source: 'events',
    'source-layer': 'events',
    filter: cluster,
    paint: {
      'circle-color': clusterColorExpr(),
      'circle-radius': ['step', ['get', 'point_count'], 5, 2, 9, 10, 12, 100, 16, 1000, 21, 10000, 27],
      'circle-opacity': 0.8,
      'circle-stroke-color': '#fff',
      'circle-stroke-width': 1.2,
    },
  });
  layers.push({
    id: 'cluster-count',
    type: 'symbol',
    source: 'events',
    'source-layer': 'events',
    filter: ['all', cluster, ['>', ['get', 'point_count'], 1]],
    layout: {
      'text-field': ['to-string', ['get', 'point_count']],
      'text-font': [FONT],
      'text-size': 11,
      'text-allow-overlap': true,
      'text-ignore-placement': true,
    },
    paint: { 'text-color': '#fff' },
  });
  const single = ['!', cluster];
  layers.push({
    id: 'events-overdue',
    type: 'circle',
    source: 'events',
    'source-layer': 'events',
    filter: ['all', single, ['==', ['get', 'overdue'], true]],
    paint: {
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 14, 9, 18, 13],
      'circle-color': 'rgba(0,0,0,0)',
      'circle-stroke-color': OVERDUE_COLOR,
      'circle-stroke-width': 2.5,
    },
  });
  layers.push({
    id: 'events',
    type: 'circle',
    source: 'events',
    'source-layer': 'events',
    filter: single,
    paint: {
      'circle-color': categoryColorExpr('category'),
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 14, 5, 18, 8],
      'circle-opacity': ['match', ['get', 'status'], ['resolved', 'closed', 'rejected'], 0.45, 0.95],
      'circle-stroke-color': '#fff',
      'circle-stroke-width': 1,
    },
  });
  return { sources, layers };
}

/** A GeoJSON overlay of changes received live (a ring around each). */
export function liveStyle() {
  const sources = { live: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } } };
  const layers = [];
  layers.push({
    id: 'live',
    type: 'circle',
    source: 'live',
    paint: {
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 8, 16, 14],
      'circle-color': categoryColorExpr('top'),
      'circle-opacity': 0.9,
      'circle-stroke-color': ['match', ['get', 'change'], 'created', '#00b0ff', '#ffab00'],
      'circle-stroke-width': 4,
      'circle-stroke-opacity': 0.9,
    },
  });
  return { sources, layers };
}

/** The tiles containing a point at zooms `minz`..`maxz` (for precise refreshes). */
export function tilesAt(lon, lat, minz, maxz) {
  const out = [];
  const rad = (lat * Math.PI) / 180;
  for (let z = minz; z <= maxz; z++) {
    const n = 2 ** z;
    const x = Math.min(n - 1, Math.max(0, Math.floor(((lon + 180) / 360) * n)));
    const y = Math.min(n - 1, Math.max(0, Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n)));
    out.push({ x, y, z });
  }
  return out;
}

/** The filter of the `areas-selected` layer for an area id (the tiles' feature id). */
export function selectedFilter(id) {
  return ['==', ['id'], id];
}

/** An area feature's id (the feature id of the tile; a property `id` if there is one). */
export function areaId(f) {
  return f.id ?? f.properties.id;
}

/**
 * Reloads a source's tiles that contain changed points (`tiles`, canonical x/y/z): those in
 * view at once, and those kept out of view are dropped so that they are fetched afresh when
 * shown again (MapLibre has no public call for the latter; its tile cache is reached
 * defensively, and without it only the tiles in view are refreshed).
 */
export function refreshSourceTiles(map, id, tiles) {
  if (!map.getSource(id)) return;
  const keys = new Set(tiles.map((t) => `${t.z}/${t.x}/${t.y}`));
  const manager = map.style?.tileManagers?.[id] || map.style?.sourceCaches?.[id];
  const cache = manager?._outOfViewCache || manager?._cache;
  try {
    cache?.filter?.((tile) => {
      const c = tile.tileID?.canonical;
      return !c || !keys.has(`${c.z}/${c.x}/${c.y}`);
    });
  } catch (e) {
    console.warn('minqing: cannot drop cached tiles', e);
  }
  map.refreshTiles(id, tiles);
}

/**
 * Points a vector source at a new tile URL (other filters) and reloads its tiles.
 *
 * MapLibre 5's `setTiles` only takes effect once an asynchronous reload has run: a tile asked
 * for in the same frame still goes to the old URL, and its pending reload can be dropped, so
 * the map kept showing the old filter's tiles (maplibre-gl-js#6251; fixed upstream by #8323,
 * which sets `tiles` at once as done here).
 */
export function setSourceTiles(map, id, url) {
  const source = map.getSource(id);
  if (!source) return;
  source.setTiles([url]);
  source.tiles = [url];
}

/** Sets the layer's visibility. */
export function setVisible(map, id, visible) {
  if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none');
}

/** A GeoJSON source and circle layer for points of interest (my position, nearby cases). */
export function pointsStyle(id, paint) {
  return { sources: { [id]: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } } }, layers: [{ id, type: 'circle', source: id, paint }] };
}

/** Replaces a GeoJSON source's features. */
export function setPoints(map, id, features) {
  map.getSource(id)?.setData({ type: 'FeatureCollection', features });
}

// ---- registers (issue 17): buildings, places, service coverage --------------------------

/** Colours of building kinds (codes of crates/model/src/register.rs `BuildingKind`). */
export const BUILDING_COLORS = {
  residential: '#7e9cc0',
  shop: '#f2a93b',
  factory: '#8d6e63',
  school: '#43a047',
  clinic: '#e0527a',
  public: '#6a4fb3',
  other: '#a0a7ae',
};

/** Colours of place classes; risk sites by level 1–4; public things by state. */
export const PLACE_COLORS = { service: '#00897b', thing: '#607d8b' };
export const RISK_COLORS = ['#fbc02d', '#fb8c00', '#e53935', '#7f0000'];
export const THING_STATE_COLORS = { normal: '#607d8b', damaged: '#ff6f00', missing: '#c62828' };
export const COVERED_COLOR = '#2e7d32';
export const UNCOVERED_COLOR = '#d32f2f';

const matchExpr = (prop, table, fallback) => ['match', ['get', prop], ...Object.entries(table).flat(), fallback];

/** Layers are put under the events (clusters, cases, live changes) when those are there. */
function beneath(map) {
  return ['clusters', 'cluster-count', 'events-overdue', 'events', 'live'].find((l) => map.getLayer(l));
}

/** Adds a style part (`{sources, layers}`) under the events; sources already there are kept. */
export function addPart(map, part) {
  const before = beneath(map);
  for (const [id, src] of Object.entries(part.sources)) if (!map.getSource(id)) map.addSource(id, src);
  for (const layer of part.layers) if (!map.getLayer(layer.id)) map.addLayer(layer, before);
}

function vectorSource(tj, params, maxzoom = 16) {
  return { type: 'vector', tiles: [tilesUrl(tj, params)], minzoom: tj.minzoom ?? 0, maxzoom: Math.min(tj.maxzoom ?? maxzoom, maxzoom), bounds: tj.bounds };
}

/** Buildings of the register (`buildings` tiles, zoom ≥ 14): outlines, else points; kind colours. */
export function buildingsStyle(tj) {
  const color = matchExpr('kind', BUILDING_COLORS, BUILDING_COLORS.other);
  const polygon = ['==', ['geometry-type'], 'Polygon'];
  const point = ['==', ['geometry-type'], 'Point'];
  const selected = ['boolean', ['feature-state', 'selected'], false];
  return {
    sources: { buildings: vectorSource(tj, {}) },
    layers: [
      { id: 'buildings-fill', type: 'fill', source: 'buildings', 'source-layer': 'buildings', filter: polygon, paint: { 'fill-color': color, 'fill-opacity': 0.75 } },
      { id: 'buildings-line', type: 'line', source: 'buildings', 'source-layer': 'buildings', filter: polygon, paint: { 'line-color': ['case', selected, '#0d47a1', '#ffffff'], 'line-width': ['case', selected, 3, 0.6] } },
      {
        id: 'buildings-point',
        type: 'circle',
        source: 'buildings',
        'source-layer': 'buildings',
        filter: point,
        paint: {
          'circle-color': color,
          'circle-radius': ['interpolate', ['linear'], ['zoom'], 14, 3, 17, 7, 19, 10],
          'circle-stroke-color': ['case', selected, '#0d47a1', '#ffffff'],
          'circle-stroke-width': ['case', selected, 3, 0.8],
        },
      },
    ],
  };
}

/** Places (`places` tiles, zoom ≥ 12): service places, risk sites by level, public things. */
export function placesStyle(tj) {
  const cls = ['get', 'class'];
  const riskColor = ['match', ['number', ['get', 'risk_level'], 1], 1, RISK_COLORS[0], 2, RISK_COLORS[1], 3, RISK_COLORS[2], RISK_COLORS[3]];
  const thing = ['==', cls, 'thing'];
  return {
    sources: { places: vectorSource(tj, {}) },
    layers: [
      {
        id: 'places',
        type: 'circle',
        source: 'places',
        'source-layer': 'places',
        paint: {
          'circle-color': ['match', cls, 'risk', riskColor, 'thing', matchExpr('state', THING_STATE_COLORS, PLACE_COLORS.thing), PLACE_COLORS.service],
          'circle-radius': ['interpolate', ['linear'], ['zoom'], 12, ['case', thing, 1.5, 4], 16, ['case', thing, 3.5, 7], 19, ['case', thing, 5, 10]],
          'circle-stroke-color': ['match', cls, 'risk', '#3e0000', '#ffffff'],
          'circle-stroke-width': ['match', cls, 'thing', 0.5, 1.5],
        },
      },
      {
        id: 'places-label',
        type: 'symbol',
        source: 'places',
        'source-layer': 'places',
        minzoom: 15,
        filter: ['!=', cls, 'thing'],
        layout: {
          'text-field': ['get', 'name'],
          'text-font': [FONT],
          'text-size': 11,
          'text-offset': [0, 1.1],
          'text-anchor': 'top',
          'text-max-width': 9,
          'text-optional': true,
        },
        paint: { 'text-color': ['match', cls, 'risk', '#7f0000', '#00574b'], 'text-halo-color': 'rgba(255,255,255,0.95)', 'text-halo-width': 1.3 },
      },
    ],
  };
}

/** A circle radius, in pixels, of `metres` on the ground at latitude `lat`, at every zoom. */
export function metresRadius(metres, lat) {
  const px0 = metres / ((40075016.686 * Math.cos((lat * Math.PI) / 180)) / 512);
  return ['interpolate', ['exponential', 2], ['zoom'], 0, px0, 22, px0 * 2 ** 22];
}

/**
 * Service coverage (`coverage` tiles, zoom ≥ 12): residential buildings within reach of the
 * nearest place of a type (green) or beyond it (red); the reach of each place of the type
 * (from the `places` source) as a disc; the buildings beyond reach of the figures asked for
 * (a GeoJSON of `/api/v1/coverage`) as red rings, at every zoom.
 */
export function coverageStyle(tj, params, { lat = 22.9 } = {}) {
  return {
    sources: {
      coverage: vectorSource(tj, params),
      'coverage-uncovered': { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
    },
    layers: [
      {
        id: 'coverage-reach',
        type: 'circle',
        source: 'places',
        'source-layer': 'places',
        filter: ['==', ['get', 'type'], params.type],
        paint: {
          'circle-radius': metresRadius(Number(params.within_m) || 1000, lat),
          'circle-color': COVERED_COLOR,
          'circle-opacity': 0.08,
          'circle-stroke-color': COVERED_COLOR,
          'circle-stroke-width': 1,
          'circle-stroke-opacity': 0.5,
          'circle-pitch-alignment': 'map',
        },
      },
      {
        id: 'coverage',
        type: 'circle',
        source: 'coverage',
        'source-layer': 'coverage',
        paint: {
          'circle-color': ['case', ['boolean', ['get', 'covered'], false], COVERED_COLOR, UNCOVERED_COLOR],
          'circle-radius': ['interpolate', ['linear'], ['zoom'], 12, 2.5, 16, 5, 19, 8],
          'circle-stroke-color': '#ffffff',
          'circle-stroke-width': 0.6,
        },
      },
      {
        id: 'coverage-uncovered',
        type: 'circle',
        source: 'coverage-uncovered',
        maxzoom: 12,
        paint: {
          'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 2.5, 12, 4],
          'circle-color': 'rgba(0,0,0,0)',
          'circle-stroke-color': UNCOVERED_COLOR,
          'circle-stroke-width': 1.5,
        },
      },
      {
        id: 'coverage-places',
        type: 'circle',
        source: 'places',
        'source-layer': 'places',
        filter: ['==', ['get', 'type'], params.type],
        paint: { 'circle-radius': 6, 'circle-color': COVERED_COLOR, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 },
      },
    ],
  };
}

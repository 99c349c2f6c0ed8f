import type { Area, LatLon } from '../config/schema-rules.ts';

const EARTH_RADIUS_M = 6_371_008.8;
const rad = (deg: number) => (deg * Math.PI) / 180;

/** Great-circle distance (haversine), metres: accurate to ~0.5 %, far inside a GPS fix's error at site scale. */
export function distanceM(a: LatLon, b: LatLon): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Longitude moved by whole turns to lie within 180 degrees of `ref`: 179.9 seen from -179.9 is -180.1. */
function near(lon: number, ref: number): number {
  return lon - 360 * Math.round((lon - ref) / 360);
}

/**
 * Even-odd ray casting on lat/lon treated as flat, which is fine for sites a few km across.
 * Longitudes are unwrapped around the first vertex, so a yard straddling the antimeridian
 * (179.99 .. -179.99) works; polygons wider than 180 degrees of longitude do not.
 */
export function inPolygon(points: readonly LatLon[], p: LatLon): boolean {
  const ref = points[0]?.lon ?? 0;
  const xs = points.map((q) => near(q.lon, ref));
  const x = near(p.lon, ref);
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const yi = points[i]!.lat;
    const yj = points[j]!.lat;
    const xi = xs[i]!;
    const xj = xs[j]!;
    if (yi > p.lat !== yj > p.lat && x < ((xj - xi) * (p.lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function inArea(area: Area, p: LatLon): boolean {
  return area.type === 'circle' ? distanceM(area, p) <= area.radiusM : inPolygon(area.points, p);
}

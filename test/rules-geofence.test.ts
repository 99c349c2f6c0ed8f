import { describe, expect, it } from 'vitest';
import type { Area } from '../src/config/schema-rules.ts';
import { distanceM, inArea } from '../src/trips/geofence.ts';

const depot: Area = { type: 'circle', lat: 53.55, lon: 9.99, radiusM: 500 };
// An L-shaped yard: the notch at the top right is outside.
const yard: Area = {
  type: 'polygon',
  points: [
    { lat: 48.0, lon: 11.0 },
    { lat: 48.0, lon: 11.02 },
    { lat: 48.01, lon: 11.02 },
    { lat: 48.01, lon: 11.01 },
    { lat: 48.02, lon: 11.01 },
    { lat: 48.02, lon: 11.0 },
  ],
};
// Straddles the antimeridian near Fiji.
const across: Area = {
  type: 'polygon',
  points: [
    { lat: -17.0, lon: 179.9 },
    { lat: -17.0, lon: -179.9 },
    { lat: -16.9, lon: -179.9 },
    { lat: -16.9, lon: 179.9 },
  ],
};
const dateline: Area = { type: 'circle', lat: -16.95, lon: 179.999, radiusM: 1000 };

describe('geofence', () => {
  it('measures great-circle distance', () => {
    // One degree of latitude is ~111.2 km everywhere.
    expect(distanceM({ lat: 10, lon: 20 }, { lat: 11, lon: 20 })).toBeCloseTo(111_195, -1);
  });

  it.each([
    ['circle: centre', depot, 53.55, 9.99, true],
    ['circle: 300 m north', depot, 53.5527, 9.99, true],
    ['circle: 700 m north', depot, 53.5563, 9.99, false],
    ['polygon: lower leg', yard, 48.005, 11.015, true],
    ['polygon: upper leg', yard, 48.015, 11.005, true],
    ['polygon: in the notch', yard, 48.015, 11.015, false],
    ['polygon: beyond the east edge', yard, 48.005, 11.03, false],
    ['antimeridian polygon: east of 180', across, -16.95, 179.95, true],
    ['antimeridian polygon: west of 180', across, -16.95, -179.95, true],
    ['antimeridian polygon: too far west', across, -16.95, 179.8, false],
    ['antimeridian polygon: other side of the world', across, -16.95, 0, false],
    ['antimeridian circle: across the line', dateline, -16.95, -179.999, true],
    ['antimeridian circle: 20 km away', dateline, -16.95, -179.8, false],
  ])('%s', (_name, area, lat, lon, inside) => {
    expect(inArea(area, { lat, lon })).toBe(inside);
  });
});

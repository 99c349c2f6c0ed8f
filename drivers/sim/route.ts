/**
 * A delivery round for the NMEA simulator: drive between stops at town speeds, accelerate and
 * brake gently, and stand at each stop (doors open) before going on. Positions are interpolated
 * on the segment; good enough at 1 Hz over a few kilometres.
 */
export interface Stop {
  lat: number;
  lon: number;
  /** Seconds parked at this stop. */
  dwell: number;
}

/** Rungis market -> three shops in the south of Paris -> back to the depot. */
export const DEMO_ROUTE: Stop[] = [
  { lat: 48.7556, lon: 2.3503, dwell: 20 },
  { lat: 48.7712, lon: 2.3391, dwell: 45 },
  { lat: 48.7825, lon: 2.3595, dwell: 45 },
  { lat: 48.7668, lon: 2.3786, dwell: 45 },
];

export interface VehicleState {
  leg: number;
  /** Metres driven on the current leg. */
  along: number;
  speed: number;
  dwellLeft: number;
}

export interface Fix {
  lat: number;
  lon: number;
  /** m/s */
  speed: number;
  /** degrees true */
  track: number;
  parked: boolean;
}

const EARTH_R = 6371000;
const CRUISE = 13.9; // 50 km/h
const ACCEL = 1.2; // m/s^2

function distance(a: Stop, b: Stop): number {
  const dLat = ((b.lat - a.lat) * Math.PI) / 180;
  const dLon = ((b.lon - a.lon) * Math.PI) / 180 * Math.cos(((a.lat + b.lat) * Math.PI) / 360);
  return Math.hypot(dLat, dLon) * EARTH_R;
}

function bearing(a: Stop, b: Stop): number {
  const dLat = b.lat - a.lat;
  const dLon = (b.lon - a.lon) * Math.cos(((a.lat + b.lat) * Math.PI) / 360);
  return ((Math.atan2(dLon, dLat) * 180) / Math.PI + 360) % 360;
}

export function startVehicle(route: Stop[]): VehicleState {
  return { leg: 0, along: 0, speed: 0, dwellLeft: route[0]!.dwell };
}

export function stepVehicle(v: VehicleState, route: Stop[], dt: number): VehicleState {
  if (v.dwellLeft > 0) return { ...v, speed: 0, dwellLeft: Math.max(0, v.dwellLeft - dt) };
  const from = route[v.leg]!;
  const to = route[(v.leg + 1) % route.length]!;
  const length = distance(from, to);
  const remaining = length - v.along;
  // Brake so as to stop at the next stop: v^2 = 2 a d.
  const target = Math.min(CRUISE, Math.sqrt(2 * ACCEL * Math.max(remaining, 0)));
  const speed = target > v.speed ? Math.min(target, v.speed + ACCEL * dt) : target;
  const along = v.along + speed * dt;
  if (along >= length - 0.5) {
    const leg = (v.leg + 1) % route.length;
    return { leg, along: 0, speed: 0, dwellLeft: route[leg]!.dwell };
  }
  return { ...v, along, speed };
}

export function fixOf(v: VehicleState, route: Stop[]): Fix {
  const from = route[v.leg]!;
  const to = route[(v.leg + 1) % route.length]!;
  const f = v.along / Math.max(distance(from, to), 1);
  return {
    lat: from.lat + (to.lat - from.lat) * f,
    lon: from.lon + (to.lon - from.lon) * f,
    speed: v.speed,
    track: bearing(from, to),
    parked: v.dwellLeft > 0,
  };
}

/**
 * A delivery round for the NMEA simulator: drive between stops at town speeds, accelerate and
 * brake gently, and stand at each stop (doors open) before going on. Positions are interpolated
 * on the segment; good enough at 1 Hz over a few kilometres.
 */
export interface Stop {
  name: string;
  lat: number;
  lon: number;
  /** Seconds parked at this stop. */
  dwell: number;
  /** Compartment doors (by index) opened on arrival, and for how many seconds of the dwell. */
  doors?: { compartment: number; sec: number }[];
}

/**
 * The demo's delivery round near Rungis market, about 6 minutes a lap, with legs of 450 to
 * 1000 m so that something happens every minute: a trip from the depot, a brief freezer door
 * at shop 1, the chiller door left open at shop 2 (warning and critical alarms), and entry
 * refused at Arena gate 3. The timeline is in README.md.
 * config/demo.json's `sites` are drawn around these stops.
 */
export const DEMO_ROUTE: Stop[] = [
  { name: 'Rungis depot', lat: 48.7556, lon: 2.3503, dwell: 15 },
  { name: 'Shop 1', lat: 48.7596, lon: 2.353, dwell: 20, doors: [{ compartment: 1, sec: 8 }] },
  { name: 'Shop 2', lat: 48.761, lon: 2.359, dwell: 80, doors: [{ compartment: 0, sec: 75 }] },
  { name: 'Arena gate 3', lat: 48.7575, lon: 2.364, dwell: 40 },
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

/** Which compartments' doors stand open now: during the first seconds of a stop's dwell. */
export function openDoors(v: VehicleState, route: Stop[]): Set<number> {
  const stop = route[v.leg]!;
  if (v.dwellLeft <= 0 || !stop.doors) return new Set();
  const parkedFor = stop.dwell - v.dwellLeft;
  return new Set(stop.doors.filter((d) => parkedFor < d.sec).map((d) => d.compartment));
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

/**
 * The few Prometheus text-format reads the simulation needs from the receivers' /metrics:
 * a counter's value, and a histogram's buckets summed over several scrapes, and a quantile of
 * them by linear interpolation inside the bucket (as PromQL's histogram_quantile does).
 *
 * Example: buckets le=0.01: 50, le=0.05: 90, le=+Inf: 100 (cumulative); p50 = 0.01 (the 50th of
 * 100 is the last in the first bucket); p90 = 0.05; p99 is in +Inf, so the highest finite bound, 0.05.
 */

export type Buckets = Map<number, number>;

/** `name{labels} value` lines whose name is `name` (labels ignored, values summed). */
export function sample(text: string, name: string): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m?.[1] === name) total = (total ?? 0) + Number(m[3]);
  }
  return total;
}

/** The cumulative buckets of histogram `name` (its `name_bucket{le="..."}` lines), summed over label sets. */
export function histogram(text: string, name: string): Buckets {
  const out: Buckets = new Map();
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}_bucket\\{(?:[^}]*,)?le="([^"]+)"[^}]*\\}\\s+(\\S+)`).exec(line);
    if (!m) continue;
    const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
    out.set(le, (out.get(le) ?? 0) + Number(m[2]));
  }
  return out;
}

export function addBuckets(a: Buckets, b: Buckets): Buckets {
  const out = new Map(a);
  for (const [le, n] of b) out.set(le, (out.get(le) ?? 0) + n);
  return out;
}

/** The q-quantile (0..1) of cumulative buckets; undefined when they hold no observation. */
export function quantile(buckets: Buckets, q: number): number | undefined {
  const bounds = [...buckets.keys()].sort((x, y) => x - y);
  const total = buckets.get(Infinity) ?? (bounds.length ? buckets.get(bounds[bounds.length - 1]!)! : 0);
  if (!total) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const le of bounds) {
    const count = buckets.get(le)!;
    if (count >= rank) {
      if (le === Infinity) return lowerBound;
      return lowerBound + ((le - lowerBound) * (rank - lowerCount)) / Math.max(count - lowerCount, 1);
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}

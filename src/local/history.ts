/** One bucket of a compartment's chart: its start and the coldest and warmest value seen in it. */
export type HistoryPoint = [atMs: number, min: number, max: number];

/**
 * The display's chart data: per compartment, the min and max of the combined temperature per
 * `stepMs` bucket over the last `windowMs`. Min and max, not a mean, because a short spike
 * above the limit is exactly what a chart must not smooth away.
 *
 * Worked example (step 30 s): values 4.0 at 10:00:05, 4.6 at 10:00:20, 4.2 at 10:00:31
 * -> [[10:00:00, 4.0, 4.6], [10:00:30, 4.2, 4.2]].
 *
 * Kept in memory only: after a restart the chart starts empty; the record of truth is the journal.
 */
export class TemperatureHistory {
  private readonly series = new Map<string, HistoryPoint[]>();

  constructor(
    readonly windowMs: number,
    readonly stepMs: number,
  ) {}

  add(compartment: string, atMs: number, value: number): void {
    let points = this.series.get(compartment);
    if (!points) this.series.set(compartment, (points = []));
    const bucket = atMs - (atMs % this.stepMs);
    const last = points[points.length - 1];
    if (last && last[0] === bucket) {
      last[1] = Math.min(last[1], value);
      last[2] = Math.max(last[2], value);
    } else if (!last || bucket > last[0]) points.push([bucket, value, value]);
    // Older buckets (a clock stepped back) are ignored rather than reordering the chart.
    const horizon = atMs - this.windowMs;
    let drop = 0;
    while (drop < points.length && points[drop]![0] < horizon) drop++;
    if (drop > 0) points.splice(0, drop);
  }

  /** Copies, so a caller serialising them cannot see a bucket change half-way. */
  snapshot(): Record<string, HistoryPoint[]> {
    return Object.fromEntries([...this.series].map(([id, pts]) => [id, pts.map((p) => [...p] as HistoryPoint)]));
  }
}

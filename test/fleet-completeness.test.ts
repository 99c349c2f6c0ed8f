import { describe, expect, it } from 'vitest';
import { judge, type Landed } from '../scripts/fleet/completeness.ts';
import { histogram, quantile } from '../scripts/fleet/prometheus.ts';

const landed = (over: Partial<Landed>): Landed => ({ present: [], duplicates: [], gaps: [], holes: [], contiguousThrough: 0, chain: 'ok', ...over });

describe('fleet-sim verdict (scripts/fleet/completeness.ts)', () => {
  it('the worked example: a missing seq and a duplicate fail, a declared gap covers', () => {
    const v = judge([{ gatewayId: 'g', incarnation: 'i', lastSeq: 10 }], new Map([['g/i', landed({ present: [[1, 4], [7, 9]], duplicates: [3], gaps: [{ fromSeq: 5, toSeq: 6, reason: 'not-held' }], contiguousThrough: 9 })]]));
    expect(v.pass).toBe(false);
    expect(v.gateways[0]!.missing).toEqual([[10, 10]]);
    expect(v.duplicates).toBe(1);
    expect(v.coveredByGap).toEqual({ 'not-held': 2 });
    expect(v.problems[0]).toMatch(/missing 1 seqs \(10\).*1 seqs stored twice \(3\).*contiguousThrough 9 < committed 10/);
  });

  it('passes only when every gateway is complete, once, without holes, and committed something', () => {
    const ok = landed({ present: [[1, 10]], contiguousThrough: 10 });
    expect(judge([{ gatewayId: 'g', incarnation: 'i', lastSeq: 10 }], new Map([['g/i', ok]])).pass).toBe(true);
    // The status still shows a hole (the receivers' view) although the rows are there.
    expect(judge([{ gatewayId: 'g', incarnation: 'i', lastSeq: 10 }], new Map([['g/i', { ...ok, holes: [[4, 4]] }]])).pass).toBe(false);
    // Another incarnation's rows do not count.
    expect(judge([{ gatewayId: 'g', incarnation: 'j', lastSeq: 10 }], new Map([['g/i', ok]])).problems[0]).toMatch(/nothing in the database/);
    expect(judge([], new Map()).pass).toBe(false);
    expect(judge([{ gatewayId: 'g', incarnation: 'i', lastSeq: 0 }], new Map([['g/i', ok]])).pass).toBe(false);
  });

  it('a gap reason named a loss fails the verdict; otherwise the gap covers', () => {
    const gapped = landed({ present: [[1, 4], [7, 10]], gaps: [{ fromSeq: 5, toSeq: 6, reason: 'not-held' }], contiguousThrough: 10 });
    const reports = [{ gatewayId: 'g', incarnation: 'i', lastSeq: 10 }];
    expect(judge(reports, new Map([['g/i', gapped]])).pass).toBe(true);
    const strict = judge(reports, new Map([['g/i', gapped]]), ['not-held']);
    expect(strict.pass).toBe(false);
    expect(strict.problems).toEqual(['2 seqs of 1 gateways declared not-held: lost although they should have been kept (g)']);
  });
});

describe('commit latency from /metrics (scripts/fleet/prometheus.ts)', () => {
  it('sums histogram lines and interpolates quantiles as histogram_quantile does', () => {
    const text = ['# TYPE x_seconds histogram', 'x_seconds_bucket{le="0.01"} 50', 'x_seconds_bucket{le="0.05"} 90', 'x_seconds_bucket{le="+Inf"} 100', 'x_seconds_count 100'].join('\n');
    const b = histogram(text, 'x_seconds');
    expect([...b.entries()]).toEqual([[0.01, 50], [0.05, 90], [Infinity, 100]]);
    expect(quantile(b, 0.5)).toBeCloseTo(0.01);
    expect(quantile(b, 0.7)).toBeCloseTo(0.03);
    expect(quantile(b, 0.99)).toBeCloseTo(0.05);
    expect(quantile(new Map(), 0.5)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { ConfigError } from '../src/config/errors.ts';

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw, 'bad.json');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('config', () => {
  it('names the field path and the allowed range', () => {
    const out = problems({
      gatewayId: 'van-1',
      buses: [{ id: 'b', type: 'tcp', host: 'x' }],
      probes: [{ id: 'p', bus: 'b', unit: 1, address: '40001' }],
    });
    expect(out).toEqual(['probes[0].address: expected an integer 0..65535, received "40001"']);
  });
});

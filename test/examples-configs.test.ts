import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import type { GatewayConfigInput } from '../src/config/schema.ts';
import { ProvisionAnswers } from '../src/provision/answers.ts';
import { answersFromConfig } from '../src/provision/defaults.ts';

const schema = JSON.parse(readFileSync('config/schema.json', 'utf8')) as { properties: Record<string, unknown> };

describe.each([
  { file: 'config/truck.json', probes: 4, buses: 1, compartments: { front: 2, rear: 2 }, gps: true },
  { file: 'config/cold-store.json', probes: 16, buses: 2, compartments: { 'chiller-a': 4, 'chiller-b': 4, freezer: 4, 'ice-cream': 4 }, gps: false },
])('example $file', ({ file, probes, buses, compartments, gps }) => {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as GatewayConfigInput & Record<string, unknown>;

  it('validates, names the published schema for editors and uses only keys the schema knows', () => {
    const { config } = loadConfig(file, {});
    expect(doc.$schema).toBe('./schema.json');
    for (const key of Object.keys(doc)) expect(schema.properties, key).toHaveProperty(key);
    expect([config.probes.length, config.buses.length, Boolean(config.gps)]).toEqual([probes, buses, gps]);
    const perCompartment: Record<string, number> = {};
    for (const p of config.probes) perCompartment[p.compartment ?? '-'] = (perCompartment[p.compartment ?? '-'] ?? 0) + 1;
    expect(perCompartment).toEqual(compartments);
    for (const bus of config.buses) expect(config.probes.filter((p) => p.bus === bus.id)).toHaveLength(probes / buses);
  });

  it('gives provision its defaults when the box is provisioned again', () => {
    const answers = ProvisionAnswers.parse(answersFromConfig(doc));
    expect(answers.gatewayId).toBe(doc.gatewayId);
    expect(answers.buses.map((b) => b.id)).toEqual(doc.buses!.map((b) => b.id));
    expect(answers.compartments.map((c) => c.id)).toEqual(Object.keys(compartments));
  });
});

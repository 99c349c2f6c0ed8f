import { z } from 'zod';
import { DataDir, Id } from './schema-common.ts';
import { UplinkConfig } from './schema-uplink.ts';
import { JournalConfig } from './schema-journal.ts';
import { ArchiveConfig } from './schema-archive.ts';
import { LocalConfig } from './schema-local.ts';
import { SimConfig } from './schema-sim.ts';
import { BusConfig, ProbeConfig, resolveProbe } from './schema-modbus.ts';
import { GpsConfig } from './schema-gps.ts';
import { CompartmentConfig } from './schema-compartments.ts';
import { HealthAlarmsConfig, InputConfig, SiteConfig, TripsConfig } from './schema-rules.ts';

/** The whole gateway config: the one source of types, defaults, the JSON Schema and error texts. */
export const GatewayConfigShape = z.strictObject({
  $schema: z.string().optional(),
  gatewayId: Id.describe('unique per box; part of every MQTT topic and the de-duplication key'),
  dataDir: DataDir.default('./data').describe('journal and state; relative paths are relative to the config file'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  journal: JournalConfig.default(JournalConfig.parse({})),
  archive: ArchiveConfig.default(ArchiveConfig.parse({})).describe('the trip archive: every ended trip kept on the box (src/trips)'),
  uplink: UplinkConfig.default(UplinkConfig.parse({})),
  buses: z.array(BusConfig).default([]),
  probes: z.array(ProbeConfig).default([]),
  gps: GpsConfig.optional(),
  compartments: z.array(CompartmentConfig).default([]),
  inputs: z.array(InputConfig).default([]).describe('digital inputs: door contacts, defrost relays'),
  sites: z.array(SiteConfig).default([]).describe('geofences: depots (trips) and destinations (entry gate)'),
  trips: TripsConfig.default(TripsConfig.parse({})),
  healthAlarms: HealthAlarmsConfig.default(HealthAlarmsConfig.parse({})),
  local: LocalConfig.default(LocalConfig.parse({})),
  sim: SimConfig.optional().describe('simulated devices speaking the real protocols (demo and tests)'),
});

type Shape = z.infer<typeof GatewayConfigShape>;

function duplicates<T>(items: T[], key: (t: T) => string, path: string, ctx: z.core.$RefinementCtx<Shape>) {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const k = key(item);
    const first = seen.get(k);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: [path, i, 'id'], message: `duplicate id "${k}" (also ${path}[${first}])` });
    else seen.set(k, i);
  });
}

/** Checks that span fields: references between sections and limits that contradict each other. */
export const GatewayConfig = GatewayConfigShape.superRefine((cfg, ctx) => {
  duplicates(cfg.buses, (b) => b.id, 'buses', ctx);
  duplicates(cfg.probes, (p) => p.id, 'probes', ctx);
  duplicates(cfg.compartments, (c) => c.id, 'compartments', ctx);
  const busIds = new Set(cfg.buses.map((b) => b.id));
  const compartmentIds = new Set(cfg.compartments.map((c) => c.id));
  cfg.probes.forEach((p, i) => {
    if (!busIds.has(p.bus)) ctx.addIssue({ code: 'custom', path: ['probes', i, 'bus'], message: `no bus with id "${p.bus}" (known: ${[...busIds].join(', ') || 'none'})` });
    if (p.compartment !== undefined && !compartmentIds.has(p.compartment))
      ctx.addIssue({ code: 'custom', path: ['probes', i, 'compartment'], message: `no compartment with id "${p.compartment}"` });
    const r = resolveProbe(p);
    if (r.validRange[0] >= r.validRange[1]) ctx.addIssue({ code: 'custom', path: ['probes', i, 'validRange'], message: 'min must be below max' });
    if (r.scale === 0) ctx.addIssue({ code: 'custom', path: ['probes', i, 'scale'], message: 'scale 0 would read every probe as the offset' });
  });
  const unitsPerBus = new Map<string, number>();
  cfg.probes.forEach((p, i) => {
    const key = `${p.bus}/${p.unit}/${resolveProbe(p).function}/${p.address}`;
    const first = unitsPerBus.get(key);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['probes', i, 'address'], message: `same bus, unit, function and address as probes[${first}]` });
    else unitsPerBus.set(key, i);
  });
  duplicates(cfg.inputs, (x) => x.id, 'inputs', ctx);
  duplicates(cfg.sites, (x) => x.id, 'sites', ctx);
  cfg.inputs.forEach((x, i) => {
    if (!busIds.has(x.bus)) ctx.addIssue({ code: 'custom', path: ['inputs', i, 'bus'], message: `no bus with id "${x.bus}" (known: ${[...busIds].join(', ') || 'none'})` });
  });
  cfg.local.outputs.forEach((o, i) => {
    if (o.type === 'coil' && !busIds.has(o.bus))
      ctx.addIssue({ code: 'custom', path: ['local', 'outputs', i, 'bus'], message: `no bus with id "${o.bus}" (known: ${[...busIds].join(', ') || 'none'})` });
  });
  const inputIds = new Set(cfg.inputs.map((x) => x.id));
  const fed = new Set(cfg.probes.map((p) => p.compartment));
  cfg.compartments.forEach((c, i) => {
    // Without a probe its temperature is never known: it would pass every check and never alarm.
    if (!fed.has(c.id))
      ctx.addIssue({ code: 'custom', path: ['compartments', i], message: `no probe feeds compartment "${c.id}", so it can never alarm: set "compartment": "${c.id}" on its probes (probes[].compartment), or remove the compartment` });
    for (const cause of ['defrost', 'door'] as const) {
      const input = c[cause]?.input;
      if (input !== undefined && !inputIds.has(input))
        ctx.addIssue({ code: 'custom', path: ['compartments', i, cause, 'input'], message: `no input with id "${input}" (known: ${[...inputIds].join(', ') || 'none'})` });
    }
  });
});

export type GatewayConfig = z.infer<typeof GatewayConfig>;
export type GatewayConfigInput = z.input<typeof GatewayConfig>;

import { z } from 'zod';
import { Id, intIn } from '../config/schema-common.ts';
import { GpsConfig } from '../config/schema-gps.ts';
import { LocalConfig } from '../config/schema-local.ts';
import { ProfileName, RtuBus } from '../config/schema-modbus.ts';
import { PresetName } from '../config/schema-rules.ts';
import { UplinkConfig } from '../config/schema-uplink.ts';

/** A bus to scan: a serial device, tcp://HOST:PORT (Modbus TCP) or rtu-tcp://HOST:PORT (serial device server). */
export const BusAnswer = z.strictObject({
  id: Id.optional().describe('default bus1, bus2, ...'),
  port: z.string().min(1).regex(/^(\/.+|(tcp|rtu-tcp):\/\/[^/:]+:\d{1,5})$/, 'expected a serial device (/dev/ttyUSB0), tcp://HOST:PORT or rtu-tcp://HOST:PORT'),
  baudRate: RtuBus.shape.baudRate,
  parity: RtuBus.shape.parity,
  ids: z.string().regex(/^\d{1,3}(-\d{1,3})?$/, 'expected unit ids A-B, e.g. 1-32').default('1-32').describe('unit ids to scan'),
  scanTimeoutMs: intIn(50, 5000).default(300).describe('wait per unit id while scanning'),
  profile: ProfileName.default('int16-tenths').describe('register layout of the probes on this bus'),
});
export type BusAnswer = z.infer<typeof BusAnswer>;

/** A probe by unit id, or `bus:unit` when several buses are scanned. */
const ProbeRef = z.union([intIn(1, 247), z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*:\d{1,3}$/, 'expected a unit id or BUS:UNIT')]);
export type ProbeRef = z.infer<typeof ProbeRef>;

export const CompartmentAnswer = z.strictObject({
  id: Id,
  name: z.string().min(1).max(64).optional().describe('default: the id, capitalised'),
  preset: PresetName.default('chilled'),
  probes: z.array(ProbeRef).optional().describe('its probes; when no compartment names any, the found units are split evenly in order'),
});
export type CompartmentAnswer = z.infer<typeof CompartmentAnswer>;

/** What `coldgate provision` asks, and what an answers file (`--answers FILE`) holds. */
export const ProvisionAnswers = z.strictObject({
  $schema: z.string().optional(),
  gatewayId: Id,
  dataDir: z.string().min(1).default('/var/lib/coldgate'),
  broker: z.strictObject({
    url: UplinkConfig.shape.url.unwrap(),
    protocolVersion: UplinkConfig.shape.protocolVersion,
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    ca: z.string().min(1).optional().describe('CA certificate (PEM) of the broker'),
    cert: z.string().min(1).optional().describe('client certificate (PEM)'),
    key: z.string().min(1).optional().describe('client private key (PEM)'),
  }),
  buses: z.array(BusAnswer).default([]),
  compartments: z.array(CompartmentAnswer).default([]),
  gps: z.strictObject({ port: GpsConfig.shape.source, baudRate: GpsConfig.shape.baudRate }).optional(),
  pin: LocalConfig.shape.pin,
  display: z
    .strictObject({ host: z.string().min(1).default('0.0.0.0'), port: intIn(1, 65535).default(8080) })
    .default({ host: '0.0.0.0', port: 8080 })
    .describe('the driver display; 0.0.0.0 so the cab tablet on the box network reaches it'),
});
export type ProvisionAnswers = z.infer<typeof ProvisionAnswers>;
export type ProvisionAnswersInput = z.input<typeof ProvisionAnswers>;

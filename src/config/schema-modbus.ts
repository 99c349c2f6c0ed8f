import { z } from 'zod';
import { Host, Id, intIn, Millis, numIn, Port } from './schema-common.ts';

const BusCommon = {
  id: Id,
  timeoutMs: Millis(1, 60000).default(1000).describe('reply timeout per request'),
  coalesce: z.boolean().default(true).describe('merge the reads of one unit whose registers are contiguous or close'),
  maxGap: intIn(0, 120).default(8).describe('unused registers a merged read may span between two wanted ones'),
  maxRegisters: intIn(1, 125).default(125).describe('largest read; some devices accept fewer than the 125 Modbus allows'),
  maxBackoffMs: Millis(1000, 3_600_000).default(60_000).describe('longest pause before retrying a slave that stopped answering'),
};

export const TcpBus = z.strictObject({ ...BusCommon, type: z.literal('tcp'), host: Host, port: Port.default(502) });
export const RtuBus = z.strictObject({
  ...BusCommon,
  type: z.literal('rtu'),
  path: z.string().min(1).describe('serial device, e.g. /dev/ttyUSB0'),
  baudRate: intIn(300, 921600).default(9600),
  parity: z.enum(['none', 'even', 'odd']).default('none'),
  dataBits: z.union([z.literal(7), z.literal(8)]).default(8),
  stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
});
/** Raw RTU frames carried over TCP by a serial device server. */
export const RtuTcpBus = z.strictObject({ ...BusCommon, type: z.literal('rtu-tcp'), host: Host, port: Port });

export const BusConfig = z.discriminatedUnion('type', [TcpBus, RtuBus, RtuTcpBus]);
export type BusConfig = z.infer<typeof BusConfig>;

export const RegisterType = z.enum(['int16', 'uint16', 'int32', 'uint32', 'float32']);
export type RegisterType = z.infer<typeof RegisterType>;
export const WordOrder = z.enum(['ABCD', 'CDAB', 'BADC', 'DCBA']);
export type WordOrder = z.infer<typeof WordOrder>;
export const ReadFunction = z.union([z.literal(3), z.literal(4)]);

/** A bit in a status register of the same unit and function that, when set, marks the reading a sensor fault. */
export const FaultStatus = z.strictObject({
  address: intIn(0, 65535).describe('status register address, 0-based, read with the same function as the value'),
  bit: intIn(0, 15).describe('bit 0 is the least significant'),
  faultWhen: z.enum(['set', 'clear']).default('set'),
});

/** What a profile decides; a probe may override any of it. */
const ProfileShape = z.strictObject({
  function: ReadFunction.describe('3 = holding, 4 = input registers'),
  type: RegisterType,
  wordOrder: WordOrder.describe('byte order of the value: ABCD big-endian, CDAB low word first, BADC bytes swapped, DCBA little-endian'),
  scale: z.number(),
  offset: z.number(),
  unitOfMeasure: z.enum(['C', 'F']).describe('readings in F are converted to C'),
  faultValues: z.array(z.number().int()).describe('raw register values that mean a sensor fault (16-bit values match signed or unsigned: 0x8000 = 32768 = -32768)'),
  faultStatus: FaultStatus.optional(),
  validRange: z.tuple([z.number(), z.number()]).describe('a scaled value outside [min, max] (in the probe\'s unit) is a sensor fault'),
});
export type ProbeProfile = z.infer<typeof ProfileShape>;

const INT16_FAULTS = [0x7fff, -0x8000, -0x7fff];
const BASE: ProbeProfile = {
  function: 4,
  type: 'int16',
  wordOrder: 'ABCD',
  scale: 0.1,
  offset: 0,
  unitOfMeasure: 'C',
  faultValues: INT16_FAULTS,
  validRange: [-60, 120],
};

/**
 * Named register layouts that cover most cold-chain probes; a probe names one with `profile` and
 * overrides single fields. 0x7FFF / 0x8000 / 0x8001 are what transmitters send for an open or
 * shorted sensor (Vaisala: 0x8000 = not available).
 */
export const PROBE_PROFILES = {
  'int16-tenths': BASE,
  'int16-tenths-holding': { ...BASE, function: 3 },
  'int16-hundredths': { ...BASE, scale: 0.01 },
  'int16-whole': { ...BASE, scale: 1 },
  'int16-tenths-fahrenheit': { ...BASE, unitOfMeasure: 'F', validRange: [-80, 250] },
  'float32-abcd': { ...BASE, type: 'float32', scale: 1, faultValues: [] },
  'float32-cdab': { ...BASE, type: 'float32', wordOrder: 'CDAB', scale: 1, faultValues: [] },
} as const satisfies Record<string, ProbeProfile>;
export type ProfileName = keyof typeof PROBE_PROFILES;
export const ProfileName = z.enum(Object.keys(PROBE_PROFILES) as [ProfileName, ...ProfileName[]]);

/** The probe's last calibration, from its certificate: shown in every trip report (EN 12830 asks for it). */
export const ProbeCalibration = z.strictObject({
  serial: z.string().min(1).max(64).optional().describe("the probe's serial number"),
  certificate: z.string().min(1).max(128).optional().describe('calibration certificate number or reference'),
  calibratedAt: z.iso.date({ error: 'expected the calibration date as YYYY-MM-DD' }).describe('date of the calibration (YYYY-MM-DD)'),
  accuracyC: numIn(0.01, 5).describe('accuracy found at calibration, +/- C'),
});
export type ProbeCalibration = z.infer<typeof ProbeCalibration>;

// Profile fields have no defaults here: a default would hide whether the installer set the field,
// and the profile must only fill what the probe leaves out (see resolveProbe).
export const ProbeConfig = z.strictObject({
  id: Id,
  bus: Id.describe('id of the bus this probe hangs on'),
  unit: intIn(0, 255).describe('Modbus unit (slave) id'),
  address: intIn(0, 65535).describe('register address, 0-based as on the wire'),
  profile: ProfileName.default('int16-tenths').describe('named register layout; fields set on the probe win'),
  ...ProfileShape.partial().shape,
  intervalMs: Millis(100).default(5000),
  compartment: Id.optional(),
  calibration: ProbeCalibration.optional(),
});
export type ProbeConfig = z.infer<typeof ProbeConfig>;

/** A probe with its profile applied: every register and fault field decided. */
export type ResolvedProbe = Omit<ProbeConfig, keyof ProbeProfile> & ProbeProfile;

/** `{id, bus, unit, address}` becomes an int16-tenths input-register probe; set fields win over the profile. */
export function resolveProbe(p: ProbeConfig): ResolvedProbe {
  const profile: ProbeProfile = PROBE_PROFILES[p.profile];
  const own = Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));
  return { ...profile, ...own } as ResolvedProbe;
}

/** A relay or buzzer module driven by writing a coil; writes share the bus scheduler with the polls. */
export const CoilOutput = z.strictObject({
  bus: Id,
  unit: intIn(0, 255),
  address: intIn(0, 65535).describe('coil address, 0-based'),
});
export type CoilOutput = z.infer<typeof CoilOutput>;

import { z } from 'zod';
import { Host, Id, intIn, Millis, Port } from './schema-common.ts';

const BusCommon = {
  id: Id,
  timeoutMs: Millis(1, 60000).default(1000).describe('reply timeout per request'),
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
export const WordOrder = z.enum(['ABCD', 'CDAB', 'BADC', 'DCBA']);

export const ProbeConfig = z.strictObject({
  id: Id,
  bus: Id.describe('id of the bus this probe hangs on'),
  unit: intIn(0, 255).describe('Modbus unit (slave) id'),
  function: z.union([z.literal(3), z.literal(4)]).default(4).describe('3 = holding, 4 = input registers'),
  address: intIn(0, 65535).describe('register address, 0-based as on the wire'),
  type: RegisterType.default('int16'),
  wordOrder: WordOrder.default('ABCD'),
  scale: z.number().default(0.1),
  offset: z.number().default(0),
  unitOfMeasure: z.enum(['C', 'F']).default('C'),
  faultValues: z.array(z.number().int()).default([]).describe('raw register values that mean a sensor fault'),
  validRange: z
    .tuple([z.number(), z.number()])
    .default([-60, 120])
    .describe('a scaled value outside [min, max] is a sensor fault'),
  intervalMs: Millis(100).default(5000),
  compartment: Id.optional(),
});
export type ProbeConfig = z.infer<typeof ProbeConfig>;

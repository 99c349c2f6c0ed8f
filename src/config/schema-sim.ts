import { z } from 'zod';
import { Host, intIn, numIn, Port } from './schema-common.ts';

export const SimConfig = z.strictObject({
  modbus: z
    .strictObject({
      host: Host.default('127.0.0.1'),
      port: Port.default(5020),
      /** Register map of the simulator: unit 1, input registers 0.. hold int16 tenths of a degree. */
      compartments: z
        .array(
          z.strictObject({
            name: z.string().min(1),
            setpoint: numIn(-40, 30),
            probes: intIn(1, 16),
          }),
        )
        .min(1)
        .default([
          { name: 'chiller', setpoint: 3, probes: 2 },
          { name: 'freezer', setpoint: -20, probes: 2 },
        ]),
      speedup: numIn(1, 3600).default(1).describe('thermal model time scale: 2 makes temperatures move twice as fast as the clock (tests use > 1)'),
    })
    .optional(),
  driver: z
    .strictObject({ ackAfterSec: intIn(1, 3600).default(40).describe('acknowledge each alarm this long after it was raised') })
    .optional()
    .describe('a simulated driver that acknowledges alarms on the display with local.pin, so the demo plays unattended'),
  nmea: z
    .strictObject({
      host: Host.default('127.0.0.1'),
      port: Port.default(10110),
      intervalMs: intIn(10, 10000).default(1000),
    })
    .optional(),
});
export type SimConfig = z.infer<typeof SimConfig>;

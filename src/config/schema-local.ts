import { z } from 'zod';
import { Host, intIn, Port } from './schema-common.ts';

export const LocalConfig = z.strictObject({
  http: z
    .strictObject({ host: Host.default('127.0.0.1'), port: intIn(0, 65535).default(8080) })
    .default({ host: '127.0.0.1', port: 8080 }),
  pin: z
    .string()
    .regex(/^[0-9]{4,8}$/, 'expected a PIN of 4 to 8 digits')
    .optional()
    .describe('needed on the display to acknowledge alarms and start or end trips'),
});
export type LocalConfig = z.infer<typeof LocalConfig>;

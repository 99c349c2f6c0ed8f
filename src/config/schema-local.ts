import { z } from 'zod';
import { Host, Id, intIn } from './schema-common.ts';
import { AlarmSeverity } from './schema-rules.ts';

/** Where an alarm is signalled besides the display: the log (console) and relay or buzzer coils. */
export const AlarmOutputConfig = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('console') }),
    z.strictObject({
      type: z.literal('coil'),
      bus: Id.describe('id of the bus (buses[]) the relay or buzzer module is on'),
      unit: intIn(0, 255),
      address: intIn(0, 65535).describe('coil address (function 5); on while an alarm waits for acknowledgement'),
    }),
  ],
  { error: 'expected an output of type "console" or "coil"' },
);
export type AlarmOutputConfig = z.infer<typeof AlarmOutputConfig>;

/**
 * Where the display listens, and the names it may be reached by. A state change whose Host is
 * another name is refused (DNS rebinding: a web page whose name points at the box); IP
 * literals, `localhost` and `host` itself are always allowed.
 */
export const LocalHttpConfig = z.strictObject({
  host: Host.default('127.0.0.1'),
  port: intIn(0, 65535).default(8080),
  allowedHosts: z
    .array(z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/, 'expected a host name such as "van-12.local" (no port, no scheme)'))
    .default([])
    .describe('other names the display is opened by, e.g. "van-12.local"'),
});
export type LocalHttpConfig = z.infer<typeof LocalHttpConfig>;

/**
 * What the remote `set-config` may change besides the ordinary fields. Off by default: whoever
 * can send commands should not be able to lock the driver out or move the journal. Only an
 * installer editing the file on the box can change these flags (set-config refuses to).
 */
export const RemoteChanges = z
  .strictObject({
    pin: z.boolean().default(false).describe('set-config may change or remove local.pin'),
    dataDir: z.boolean().default(false).describe('set-config may change dataDir'),
  })
  .default({ pin: false, dataDir: false });

export const LocalConfig = z.strictObject({
  http: LocalHttpConfig.default({ host: '127.0.0.1', port: 8080, allowedHosts: [] }),
  pin: z
    .string()
    .regex(/^[0-9]{4,8}$/, 'expected a PIN of 4 to 8 digits')
    .optional()
    .describe('needed on the display to acknowledge alarms and start or end trips'),
  outputs: z.array(AlarmOutputConfig).default([{ type: 'console' }]).describe('buzzer, relay and console: on while an alarm is not acknowledged'),
  outputSeverity: AlarmSeverity.default('warning').describe('lowest severity that switches the outputs on'),
  remoteChanges: RemoteChanges.describe('fields the remote set-config command may change; only the file on the box can change this'),
  historyHours: intIn(1, 48).default(4).describe('hours of temperatures kept for the display\'s chart (in memory)'),
});
export type LocalConfig = z.infer<typeof LocalConfig>;

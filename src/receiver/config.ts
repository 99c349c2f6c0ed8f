import { z } from 'zod';
import { ConfigError, formatIssues } from '../config/errors.ts';
import { readJsonFile } from '../config/load.ts';

/**
 * The receiver's config file (`coldgate receive --config FILE`); every field has a default, and
 * a flag on the command line wins over the file. Unknown keys are refused by name.
 */
export const ReceiverConfig = z.strictObject({
  /** Names this receiver in `cmd/replay` (`by: receiver:NAME`), the refused table and its MQTT client id. */
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only (1-64)').default('receiver'),
  /** MQTT 5 shared-subscription group: every receiver of one group shares the gateways' messages. */
  shareGroup: z.string().regex(/^[^/+#$\s]{1,64}$/, 'no / + # $ or spaces').default('coldgate-receivers'),
  topicRoot: z.string().min(1).default('coldgate/v1'),
  /** A hole older than this is asked for with cmd/replay (and again at most this often). */
  reorderTimeoutMs: z.number().int().min(100).max(3_600_000).default(10_000),
  /** /metrics port; 0 or absent: no metrics server. */
  metricsPort: z.number().int().min(0).max(65535).default(0),
  /** Larger payloads are refused unread (the box's batches are far below 1 MiB). */
  maxPayloadBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(4 * 1024 * 1024),
  /** Minimum interval between two `committed` publications per gateway (the latest value wins). */
  committedEveryMs: z.number().int().min(0).max(60_000).default(500),
  /** While PostgreSQL is unreachable: wait before retrying the same message, doubling up to retryMaxMs. */
  retryInitialMs: z.number().int().min(10).max(60_000).default(200),
  retryMaxMs: z.number().int().min(100).max(600_000).default(10_000),
  /** MQTT 5 session expiry: how long the broker keeps this receiver's queue while it is away. */
  sessionExpirySec: z.number().int().min(0).max(0xffffffff).default(3600),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type ReceiverConfig = z.infer<typeof ReceiverConfig>;

export function parseReceiverConfig(raw: unknown, file: string): ReceiverConfig {
  const result = ReceiverConfig.safeParse(raw ?? {}, { reportInput: true });
  if (!result.success) throw new ConfigError(file, formatIssues(result.error.issues));
  return result.data;
}

export function loadReceiverConfig(file: string | undefined): ReceiverConfig {
  return file === undefined ? ReceiverConfig.parse({}) : parseReceiverConfig(readJsonFile(file), file);
}

import { z } from 'zod';
import { diskPath, Host, intIn, Millis, Port } from './schema-common.ts';

export const TlsConfig = z.strictObject({
  ca: diskPath('/etc/coldgate/ca.pem').optional().describe('path to the CA certificate (PEM) that signed the broker'),
  cert: diskPath('/etc/coldgate/van-0042.crt').optional().describe('path to the client certificate (PEM) for mutual TLS'),
  key: diskPath('/etc/coldgate/van-0042.key').optional().describe('path to the client private key (PEM) for mutual TLS'),
  rejectUnauthorized: z.boolean().default(true),
});

export const EmbeddedBroker = z.strictObject({
  host: Host.default('127.0.0.1'),
  port: Port.default(1883),
});

/** How the box learns that a receiver has stored its records (src/uplink/README.md: end-to-end acknowledgement). */
export const EndToEndConfig = z.strictObject({
  mode: z
    .enum(['auto', 'off'])
    .default('auto')
    .describe('auto: once a receiver publishes `committed` for this journal, records stay until it has stored them (not only until the broker PUBACKed them); off: never, the journal lets go on PUBACK'),
  resendAfterMs: Millis(1000, 600_000)
    .default(30_000)
    .describe('records the broker PUBACKed but the receiver has not committed are sent again after this long without progress (the wait then doubles up to 10 min)'),
});
export type EndToEndConfig = z.infer<typeof EndToEndConfig>;

export const UplinkConfig = z.strictObject({
  url: z
    .string()
    .regex(/^(mqtts?|wss?|tcp|ssl):\/\/[^/\s]+/, 'expected a broker URL such as mqtt://host:1883 or mqtts://host:8883')
    // A URL is logged and shown; secrets belong in fields that the logger redacts.
    .regex(/^[a-z]+:\/\/[^/@]*$|^[a-z]+:\/\/[^@]*\//, 'must not hold credentials (user:password@): use uplink.username/password or COLDGATE_MQTT_USERNAME/PASSWORD')
    .default('mqtt://127.0.0.1:1883'),
  embeddedBroker: EmbeddedBroker.optional().describe(
    'start an in-process MQTT broker (demo and bench only); ignored when COLDGATE_MQTT_URL is set',
  ),
  protocolVersion: z
    .union([z.literal(5), z.literal(4)])
    .default(5)
    .describe('MQTT 5 carries content type and reply topics in properties; 4 (3.1.1) for brokers without 5'),
  clientId: z.string().min(1).max(128).optional().describe('defaults to coldgate-{gatewayId}'),
  username: z.string().optional(),
  password: z.string().optional(),
  tls: TlsConfig.optional(),
  topicRoot: z.string().regex(/^[^#+]+$/, 'must not contain MQTT wildcards').default('coldgate/v1'),
  batchMaxRecords: intIn(1, 50000).default(5000).describe('records per MQTT message; readings cost a few bytes each in a batch'),
  compression: z
    .enum(['deflate', 'none'])
    .default('deflate')
    .describe('zlib-compress batches and latest with the preset dictionary; the payload says so itself (on MQTT 3.1.1 too), MQTT 5 also in the user property content-encoding'),
  rateLimitBytesPerSec: intIn(0, 1_000_000_000)
    .default(0)
    .describe('average payload bytes/s for batches, so a backlog does not flood a cellular link; 0 = unlimited'),
  batchIntervalMs: Millis()
    .default(5000)
    .describe('how long telemetry may wait to fill a batch (events go at once; the first batch after a connect too): longer is fewer bytes per reading'),
  inflightWindow: intIn(1, 1024).default(16).describe('batches published but not yet PUBACKed'),
  keepaliveSec: intIn(5, 3600).default(30),
  reconnectMinMs: Millis().default(1000).describe('attempts after a loss come about this often (jittered) during the fast phase'),
  reconnectFastPhaseMs: Millis().default(30000).describe('how long after a loss attempts stay at reconnectMinMs before backing off'),
  reconnectMaxMs: Millis().default(30000).describe('the backoff after the fast phase doubles up to this (jittered)'),
  endToEnd: EndToEndConfig.default(EndToEndConfig.parse({})).describe('end-to-end acknowledgement from a receiver (topic `committed`)'),
});
export type UplinkConfig = z.infer<typeof UplinkConfig>;

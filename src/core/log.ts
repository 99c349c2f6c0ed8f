import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import type { PrettyOptions, PrettyStream } from 'pino-pretty';

export type { Logger };

/** Paths whose values never reach a log line, whatever the level. */
export const REDACT = ['password', '*.password', '*.*.password', 'pin', '*.pin', '*.*.pin', 'key', '*.key', '*.*.key', 'authorization', '*.authorization'];

export interface LoggerOptions {
  /** Human-readable lines (pino-pretty); default: when stdout is a terminal. */
  pretty?: boolean;
  /** JSON lines go here instead of stdout (tests read what the product logs); never pretty. */
  destination?: DestinationStream;
}

/** Pretty on a terminal for people, JSON lines otherwise for journald and log shippers. */
export function createLogger(level: LevelWithSilent = 'info', { pretty = process.stdout.isTTY === true, destination }: LoggerOptions = {}): Logger {
  const options = { level, base: { app: 'coldgate' }, redact: { paths: REDACT, censor: '[redacted]' } };
  if (destination) return pino(options, destination);
  if (!pretty) return pino(options);
  return pino(options, prettyStream({ colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app' }));
}

/**
 * pino-pretty in this thread, loaded by name only when a person watches: a pino transport would
 * start a worker thread for it, and the bundle would carry its code for every start.
 */
function prettyStream(options: PrettyOptions): PrettyStream {
  const build = createRequire(import.meta.url)('pino-pretty') as (options: PrettyOptions) => PrettyStream;
  return build(options);
}

/** For tests and tools that must stay quiet. */
export const silentLogger: Logger = pino({ level: 'silent' });

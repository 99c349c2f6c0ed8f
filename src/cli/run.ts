import { parseArgs } from 'node:util';
import { createLogger, type Logger } from '../core/log.ts';
import { JournalError } from '../journal/journal.ts';
import { startManagedGateway } from '../remote/index.ts';
import { loadConfigArg } from './config-arg.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CommandIo } from './io.ts';

/** Ctrl-C must stop within 2 s even if a peer hangs: a driver behind glass has no time to wait. */
const STOP_DEADLINE_MS = 1800;

/** `coldgate run --config FILE`: the gateway, until SIGINT or SIGTERM. */
export async function runCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } }, strict: true });
  const loaded = loadConfigArg('run', values.config, io);
  if (!loaded) {
    io.stderr.write('run: not started; fix the config (coldgate validate --config FILE)\n');
    return EXIT_USAGE;
  }
  const log = createLogger(loaded.config.logLevel);
  if (loaded.overrides.length) log.info({ overrides: loaded.overrides }, 'environment overrides applied');
  // A stray rejection is logged and survived; an uncaught exception leaves unknown state, so
  // the process exits and the service manager restarts it (the journal keeps what was committed).
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection'));
  process.once('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception; exiting');
    process.exit(EXIT_FAILURE);
  });
  let gateway;
  try {
    // Managed: answers MQTT commands and can replace its config remotely (src/remote).
    gateway = await startManagedGateway({ file: loaded.file, loaded, log, onFatal: () => process.exit(EXIT_FAILURE) });
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'coldgate could not start');
    io.stderr.write(`coldgate: not started: ${(err as Error).message}\n`);
    return err instanceof JournalError ? EXIT_USAGE : EXIT_FAILURE;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info({ signal }, 'stopping');
  await stopWithin(STOP_DEADLINE_MS, () => gateway.stop(), log);
  log.info('stopped');
  return EXIT_OK;
}

/**
 * Runs `stop`; if it has not finished after `deadlineMs`, says so and exits EXIT_FAILURE. A hung
 * shutdown is a defect: the exit code tells systemd and the tests, the log line tells a person.
 */
export async function stopWithin(deadlineMs: number, stop: () => Promise<void>, log: Logger): Promise<void> {
  const deadline = setTimeout(() => {
    log.error({ deadlineMs }, 'stop took too long; exiting with failure (committed data is safe)');
    process.exit(EXIT_FAILURE);
  }, deadlineMs);
  try {
    await stop();
  } finally {
    clearTimeout(deadline);
  }
}

import { parseArgs } from 'node:util';
import { silentLogger } from '../core/log.ts';
import { checkDevices, formatDeviceChecks } from '../provision/checks.ts';
import { calibrationStatus } from '../trips/calibration.ts';
import { loadConfigArg } from './config-arg.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CommandIo } from './io.ts';

/**
 * Table (or JSON) of every device; exit 1 if any is red. Overdue probe calibrations are
 * warnings: the probe still measures, so they do not fail the check. Shared by `check` and the end of `provision`.
 */
export async function reportChecks(config: Parameters<typeof checkDevices>[0], io: CommandIo, json = false, nowMs = Date.now()): Promise<number> {
  const devices = await checkDevices(config, silentLogger);
  const ok = devices.every((d) => d.ok);
  const warnings = calibrationStatus(config.probes, config.trips.calibrationMaxAgeDays, nowMs).flatMap((p) => (p.warning ? [p.warning] : []));
  if (json) io.stdout.write(`${JSON.stringify({ ok, gatewayId: config.gatewayId, devices, warnings })}\n`);
  else io.stdout.write(`${formatDeviceChecks(devices, (io.stdout as NodeJS.WriteStream).isTTY === true)}${warnings.map((w) => `WARNING ${w}\n`).join('')}`);
  return ok ? EXIT_OK : EXIT_FAILURE;
}

/** `coldgate check --config FILE [--json]`: every probe, the GPS, the broker and the disk, green or red with what to do. */
export async function checkCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } }, strict: true });
  const loaded = loadConfigArg('check', values.config, io);
  if (!loaded) return EXIT_USAGE;
  return reportChecks(loaded.config, io, values.json);
}

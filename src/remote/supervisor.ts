import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../config/errors.ts';
import { loadConfig, parseConfig, type LoadedConfig } from '../config/load.ts';
import type { Logger } from '../core/log.ts';
import type { DeviceHealth } from '../core/types.ts';
import { startGateway, type Gateway } from '../runtime/gateway.ts';
import type { IncomingCommand } from '../uplink/uplink.ts';
import { configText, previousOf, rejectedOf, replaceConfigFile, restorePreviousConfig } from '../provision/config-file.ts';
import { assessReadiness } from './devices.ts';

export type ApplyOutcome =
  | { outcome: 'applied'; file: string; previous?: string; devices: DeviceHealth[] }
  | { outcome: 'refused'; problems: string[] }
  | { outcome: 'rolled-back'; problems: string[]; rejected: string };

export interface Running {
  gateway: Gateway;
  loaded: LoadedConfig;
  /** When this gateway (not the process) started, ms since the epoch. */
  startedAt: number;
}

export interface Supervisor {
  readonly file: string;
  current(): Running;
  /**
   * Validates `raw`, writes it (the old file kept as FILE.prev), restarts the gateway with it and
   * waits up to `deadlineMs` for its devices; if they do not all answer, puts FILE.prev back and
   * restarts with that.
   */
  applyConfig(raw: Record<string, unknown>, deadlineMs: number): Promise<ApplyOutcome>;
  stop(): Promise<void>;
}

export interface SupervisorOptions {
  file: string;
  loaded: LoadedConfig;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  onCommand: (command: IncomingCommand) => void;
  /** The previous config did not start again either: nothing is running. The CLI exits so systemd restarts it. */
  onFatal?: (err: Error) => void;
}

const READY_POLL_MS = 200;

async function waitReady(gateway: Gateway, deadlineMs: number): Promise<string[]> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const { ready, problems } = assessReadiness(gateway.health());
    if (ready) return [];
    if (Date.now() >= deadline) return problems;
    await sleep(READY_POLL_MS);
  }
}

/** Owns the running gateway so that a remote config change can stop it, start another and fall back. */
export async function startSupervisor(opts: SupervisorOptions): Promise<Supervisor> {
  const { file, log } = opts;
  const env = opts.env ?? process.env;
  const launch = async (loaded: LoadedConfig): Promise<Running> => ({
    gateway: await startGateway(loaded.config, log, { onCommand: opts.onCommand }),
    loaded,
    startedAt: Date.now(),
  });
  let running = await launch(opts.loaded);

  async function rollBack(reason: string[]): Promise<ApplyOutcome> {
    log.warn({ problems: reason, file }, 'new config rolled back: its devices did not answer');
    restorePreviousConfig(file);
    try {
      running = await launch(loadConfig(file, env));
    } catch (err) {
      log.fatal({ err: (err as Error).message, file }, 'the previous config does not start either');
      opts.onFatal?.(err as Error);
      throw err;
    }
    return { outcome: 'rolled-back', problems: reason, rejected: rejectedOf(file) };
  }

  return {
    file,
    current: () => running,
    async applyConfig(raw, deadlineMs) {
      let next: LoadedConfig;
      try {
        next = parseConfig(raw, file, env);
      } catch (err) {
        if (err instanceof ConfigError) return { outcome: 'refused', problems: err.problems };
        throw err;
      }
      const id = running.loaded.config.gatewayId;
      if (next.config.gatewayId !== id) return { outcome: 'refused', problems: [`gatewayId: stays "${id}" (it names this gateway's topics and records; provision the box again to change it)`] };
      replaceConfigFile(file, configText(raw));
      log.info({ file }, 'config replaced remotely; restarting devices');
      await running.gateway.stop();
      let candidate: Running;
      try {
        candidate = await launch(next);
      } catch (err) {
        return rollBack([`start: ${(err as Error).message}`]);
      }
      const problems = await waitReady(candidate.gateway, deadlineMs);
      if (problems.length > 0) {
        await candidate.gateway.stop();
        return rollBack(problems);
      }
      running = candidate;
      return { outcome: 'applied', file, previous: previousOf(file), devices: candidate.gateway.health() };
    },
    stop: () => running.gateway.stop(),
  };
}

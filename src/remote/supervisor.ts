import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../config/errors.ts';
import { loadConfig, parseConfig, type LoadedConfig } from '../config/load.ts';
import type { Logger } from '../core/log.ts';
import type { DeviceHealth } from '../core/types.ts';
import { startGateway, type Gateway } from '../runtime/gateway.ts';
import type { IncomingCommand } from '../uplink/uplink.ts';
import { configText, keepRejectedConfig, replaceConfigFile } from '../provision/config-file.ts';
import { withDeadline } from './deadline.ts';
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
   * Validates `raw` (and `vet`s it: problems refuse it), restarts the gateway with it and waits
   * for its devices; only then is it written (the old file kept as FILE.prev). Stopping the old
   * gateway, starting the new one and its devices answering may each take `deadlineMs`; past
   * that, or on any failure, the gateway starts again with the file, which still holds the old
   * config (the refused one is kept as FILE.rejected).
   */
  applyConfig(raw: Record<string, unknown>, deadlineMs: number, vet?: (next: LoadedConfig, current: LoadedConfig) => string[]): Promise<ApplyOutcome>;
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
  const start = async (loaded: LoadedConfig): Promise<Running> => ({
    gateway: await startGateway(loaded.config, log, { onCommand: opts.onCommand }),
    loaded,
    startedAt: Date.now(),
  });
  // A start that hangs (a device file that blocks, a journal on a stuck disk) is given up; should it finish later, it is stopped at once.
  const launch = (loaded: LoadedConfig, deadlineMs: number) =>
    withDeadline(start(loaded), deadlineMs, (late) => {
      log.warn({ file }, 'a gateway start finished after its deadline: stopping it');
      void late.gateway.stop();
    });
  let running = await start(opts.loaded);

  async function rollBack(reason: string[], text: string, deadlineMs: number): Promise<ApplyOutcome> {
    log.warn({ problems: reason, file }, 'new config rolled back');
    const rejected = keepRejectedConfig(file, text);
    try {
      running = await launch(loadConfig(file, env), deadlineMs);
    } catch (err) {
      log.fatal({ err: (err as Error).message, file }, 'the previous config does not start either');
      opts.onFatal?.(err as Error);
      throw err;
    }
    return { outcome: 'rolled-back', problems: reason, rejected };
  }

  return {
    file,
    current: () => running,
    async applyConfig(raw, deadlineMs, vet) {
      let next: LoadedConfig;
      try {
        next = parseConfig(raw, file, env);
      } catch (err) {
        if (err instanceof ConfigError) return { outcome: 'refused', problems: err.problems };
        throw err;
      }
      const vetoes = vet?.(next, running.loaded) ?? [];
      if (vetoes.length > 0) return { outcome: 'refused', problems: vetoes };
      const text = configText(raw);
      // The file changes only once the new config has proven itself: a box that dies on the way restarts with the old one.
      log.info({ file }, 'config changed remotely; restarting devices');
      try {
        await withDeadline(running.gateway.stop(), deadlineMs);
      } catch (err) {
        return rollBack([`stop: ${(err as Error).message}`], text, deadlineMs);
      }
      let candidate: Running;
      try {
        candidate = await launch(next, deadlineMs);
      } catch (err) {
        return rollBack([`start: ${(err as Error).message}`], text, deadlineMs);
      }
      const problems = await waitReady(candidate.gateway, deadlineMs);
      if (problems.length > 0) {
        try {
          await withDeadline(candidate.gateway.stop(), deadlineMs);
        } catch (err) {
          problems.push(`stop: ${(err as Error).message}`);
        }
        return rollBack(problems, text, deadlineMs);
      }
      running = candidate;
      const previous = replaceConfigFile(file, text);
      return { outcome: 'applied', file, previous, devices: candidate.gateway.health() };
    },
    stop: () => running.gateway.stop(),
  };
}

import type { LoadedConfig } from '../config/load.ts';
import type { Logger } from '../core/log.ts';
import { createCommandHandler } from './handler.ts';
import { startSupervisor, type Supervisor } from './supervisor.ts';

export { COMMAND_NAMES } from './commands.ts';
export type { Supervisor } from './supervisor.ts';

/**
 * The gateway as `coldgate run` starts it: answering its own MQTT commands, and able to replace
 * its config remotely because it knows the file it came from.
 */
export async function startManagedGateway(opts: { file: string; loaded: LoadedConfig; log: Logger; env?: NodeJS.ProcessEnv; onFatal?: (err: Error) => void }): Promise<Supervisor> {
  let started: (s: Supervisor) => void = () => {};
  const ready = new Promise<Supervisor>((resolve) => (started = resolve));
  const onCommand = createCommandHandler(ready, opts.log.child({ mod: 'remote' }));
  const supervisor = await startSupervisor({ ...opts, onCommand });
  started(supervisor);
  return supervisor;
}

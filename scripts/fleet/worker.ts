/**
 * A process of simulated gateways (sim-gateway.ts) for the fleet simulation: started by
 * fleet-sim with its WorkerOptions as JSON in argv[2] and an IPC channel (protocol.ts). It may
 * be killed with SIGKILL at any time and started again on the same data folders.
 */
import { pino } from 'pino';
import { REDACT } from '../../src/core/log.ts';
import type { ParentMessage, WorkerMessage, WorkerOptions } from './protocol.ts';
import { SimGateway } from './sim-gateway.ts';

const opts = JSON.parse(process.argv[2]!) as WorkerOptions;
// stdout and stderr go to this worker's log file (fleet-sim keeps it with the run's folder).
const log = pino({ level: opts.logLevel, base: { worker: process.pid }, redact: { paths: REDACT, censor: '[redacted]' } }, pino.destination(2));

const send = (message: WorkerMessage) => process.send!(message);

const gateways = await Promise.all(opts.gateways.map((spec) => SimGateway.start(spec, opts, log.child({ gatewayId: spec.gatewayId }))));
send({ type: 'ready' });

process.on('message', (message: ParentMessage) => {
  void (async () => {
    if (message.type === 'stop-producing') send({ type: 'report', journals: await Promise.all(gateways.map((g) => g.stopProducing())) });
    else if (message.type === 'close') {
      await Promise.all(gateways.map((g) => g.close()));
      process.exit(0);
    }
  })().catch((err: Error) => {
    log.error({ err }, 'fleet worker failed');
    process.exit(1);
  });
});
// The parent gone (it failed, or was stopped): nobody will collect the report.
process.on('disconnect', () => process.exit(0));

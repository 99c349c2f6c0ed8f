import { parseConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startGateway, type Gateway } from '../../src/runtime/gateway.ts';
import { startModbusServer, type SimModbusServer } from '../../drivers/sim/modbus-server.ts';
import { freePort } from './net.ts';

export const PIN = '2468';

/** A probe module the test sets by hand: register i holds probe i, in int16 tenths of a degree; discrete input i is `inputs[i]` (off when unset). */
export class ManualProbes {
  readonly celsius: number[];
  readonly inputs: boolean[] = [];
  private server: SimModbusServer | undefined;
  port = 0;

  constructor(initial: number[]) {
    this.celsius = [...initial];
  }

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = await startModbusServer(
      {
        register: (addr) => {
          const c = this.celsius[addr];
          if (c === undefined) return undefined;
          const tenths = Math.round(c * 10);
          return tenths < 0 ? tenths + 0x10000 : tenths;
        },
        discrete: (addr) => this.inputs[addr] ?? false,
        coil: () => false,
        setCoil: () => undefined,
      },
      '127.0.0.1',
      this.port,
      silentLogger,
    );
  }

  close(): Promise<void> {
    return this.server?.close() ?? Promise.resolve();
  }
}

/**
 * An in-process gateway on free ports reading `probes` (one chiller probe at address 0), with
 * a display PIN and no reachable broker (the journal keeps every event). `extra` is merged into
 * the config as raw JSON, validated like a file.
 */
export async function startTestGateway(probes: ManualProbes, dataDir: string, extra: Record<string, unknown> = {}): Promise<Gateway> {
  const { config } = parseConfig(
    {
      gatewayId: 'test-van',
      dataDir,
      uplink: { url: `mqtt://127.0.0.1:${await freePort()}`, reconnectMinMs: 60_000 },
      buses: [{ id: 'b', type: 'tcp', host: '127.0.0.1', port: probes.port }],
      probes: [{ id: 'chiller-1', bus: 'b', unit: 1, address: 0, compartment: 'chiller', intervalMs: 200 }],
      compartments: [{ id: 'chiller', name: 'Chiller', preset: 'chilled', delaySec: 0, clearDelaySec: 0 }],
      local: { http: { host: '127.0.0.1', port: 0 }, pin: PIN },
      ...extra,
    },
    'test.json',
  );
  return startGateway(config, silentLogger);
}

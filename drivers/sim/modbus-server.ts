import ModbusRTU from 'modbus-serial';
import type { Logger } from '../../src/core/log.ts';

const { ServerTCP } = ModbusRTU as unknown as { ServerTCP: typeof import('modbus-serial').ServerTCP };

/** What the simulated probe module exposes; read on every request so values are live. */
export interface RegisterSource {
  /** Raw 16-bit register values (two's complement int16 tenths for temperatures). */
  register(addr: number): number | undefined;
  discrete(addr: number): boolean | undefined;
  setCoil(addr: number, value: boolean): void;
  coil(addr: number): boolean | undefined;
}

/** A Modbus exception the server sends back: code 2 is "illegal data address". */
function illegalAddress(): Error {
  return Object.assign(new Error('illegal data address'), { modbusErrorCode: 2 });
}

export interface SimModbusServer {
  port: number;
  close(): Promise<void>;
}

/** Like a real module the simulator answers one unit id and stays silent for the others. */
export const SIM_UNIT = 1;

/** Serves `source` on Modbus TCP: unit 1, input and holding registers alike, discrete inputs, coils. */
export async function startModbusServer(source: RegisterSource, host: string, port: number, log: Logger): Promise<SimModbusServer> {
  const read = (addr: number) => {
    const value = source.register(addr);
    if (value === undefined) throw illegalAddress();
    return value;
  };
  const many = (addr: number, length: number) => Array.from({ length }, (_, i) => read(addr + i));
  const bit = (value: boolean | undefined) => {
    if (value === undefined) throw illegalAddress();
    return value;
  };
  const server = new ServerTCP(
    {
      getInputRegister: read,
      getHoldingRegister: read,
      getMultipleInputRegisters: many,
      getMultipleHoldingRegisters: many,
      getDiscreteInput: (addr: number) => bit(source.discrete(addr)),
      getCoil: (addr: number) => bit(source.coil(addr)),
      setCoil: (addr: number, value: boolean) => source.setCoil(addr, value),
    },
    { host, port, unitID: SIM_UNIT },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('initialized', () => resolve());
    server.once('serverError', (err: Error) => reject(new Error(`simulated Modbus server cannot listen on ${host}:${port}: ${err.message}`)));
  });
  (server as unknown as NodeJS.EventEmitter).on('socketError', (err: Error) => log.debug({ err: err.message }, 'sim modbus socket error'));
  log.info({ host, port }, 'simulated Modbus TCP probes listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of server.socks.keys()) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

import ModbusSerial from 'modbus-serial';
import type { BusConfig } from '../../src/config/schema-modbus.ts';
import type { Logger } from '../../src/core/log.ts';
import { classifyError, ModbusCommsError, timeoutFault } from './faults.ts';

// Under NodeNext the CommonJS default export sits on `.default` (modbus-serial sets it to itself).
const ModbusRTU = ModbusSerial.default;
type Client = InstanceType<typeof ModbusRTU>;

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5000;
/** A link that carries requests but gets no answer from any unit for this long is recycled. */
const SILENT_LINK_MS = 30_000;
const SILENT_LINK_TIMEOUTS = 3;

/** Where a bus is, for log lines and messages: tcp://10.0.0.5:502, rtu:/dev/ttyUSB0@9600, rtu-tcp://10.0.0.7:4001. */
export function describeBus(cfg: BusConfig): string {
  if (cfg.type === 'rtu') return `rtu:${cfg.path}@${cfg.baudRate}`;
  return `${cfg.type}://${cfg.host}:${cfg.port}`;
}

function open(client: Client, cfg: BusConfig): Promise<void> {
  switch (cfg.type) {
    case 'tcp':
      // Not connectTcpRTUBuffered: in 8.0.25 it parses one frame per TCP chunk, so a late answer that
      // arrives together with the next one leaves it a frame behind and every later request times out.
      return client.connectTCP(cfg.host, { port: cfg.port });
    case 'rtu-tcp':
      return client.connectTelnet(cfg.host, { port: cfg.port });
    case 'rtu':
      return client.connectRTUBuffered(cfg.path, { baudRate: cfg.baudRate, parity: cfg.parity, dataBits: cfg.dataBits, stopBits: cfg.stopBits });
  }
}

/** Closes without waiting on a dead peer: TCP ports are destroyed, serial ports closed; 500 ms at most. */
function shut(client: Client): Promise<void> {
  return new Promise((resolve) => {
    const guard = setTimeout(resolve, 500);
    const done = () => {
      clearTimeout(guard);
      resolve();
    };
    try {
      const port = (client as unknown as { _port?: { destroy?: unknown } })._port;
      if (typeof port?.destroy === 'function') client.destroy(done);
      else client.close(done);
    } catch {
      done();
    }
  });
}

function errorText(err: unknown): string {
  return typeof err === 'object' && err !== null && 'message' in err ? String((err as { message: unknown }).message) : String(err);
}

/**
 * One connection to a bus that keeps itself up: it connects in the background, reconnects with
 * backoff when the serial port or TCP link drops, and turns every failure into a ModbusCommsError.
 * It does not queue: the scheduler sends one request at a time.
 */
export class BusLink {
  private client: Client | undefined;
  private stopped = true;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MIN_MS;
  private readonly inflight = new Set<(err: ModbusCommsError) => void>();
  private readonly openWaiters = new Set<() => void>();
  private lastAnswerAt = 0;
  private timeoutsInARow = 0;
  /** Why the link is down, for health and error texts. */
  lastError: string | undefined;
  connects = 0;
  drops = 0;

  constructor(
    readonly cfg: BusConfig,
    private readonly log: Logger,
  ) {}

  get isOpen(): boolean {
    return this.client?.isOpen === true;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  /** Resolves true once the link is open; false when a connection attempt fails or `ms` passes. */
  waitOpen(ms: number): Promise<boolean> {
    if (this.isOpen) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.openWaiters.delete(done);
        resolve(this.isOpen);
      };
      const timer = setTimeout(done, ms);
      this.openWaiters.add(done);
    });
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new ModbusRTU();
    client.setTimeout(this.cfg.timeoutMs);
    // Port errors also arrive as a close or a failed request; without a listener they would crash the process.
    client.on('error', (err) => this.log.debug({ event: 'modbus.bus.port_error', bus: this.cfg.id, err: errorText(err) }, 'port error'));
    let guard: NodeJS.Timeout | undefined;
    try {
      const limit = Math.max(3000, this.cfg.timeoutMs * 3);
      await Promise.race([
        open(client, this.cfg),
        new Promise((_, reject) => (guard = setTimeout(() => reject(new Error(`no connection within ${limit} ms`)), limit))),
      ]);
    } catch (err) {
      await shut(client);
      this.retry(errorText(err));
      return;
    } finally {
      clearTimeout(guard);
    }
    if (this.stopped) return void (await shut(client));
    this.client = client;
    this.connects += 1;
    this.retryMs = RETRY_MIN_MS;
    this.lastAnswerAt = Date.now();
    this.timeoutsInARow = 0;
    if (this.lastError !== undefined || this.connects > 1) this.log.info({ event: 'modbus.bus.reconnected', bus: this.cfg.id, at: describeBus(this.cfg) }, 'bus link is back');
    else this.log.info({ event: 'modbus.bus.open', bus: this.cfg.id, at: describeBus(this.cfg) }, 'bus link open');
    this.lastError = undefined;
    client.on('close', () => this.drop(client, 'link closed by the other end or the port went away'));
    for (const w of [...this.openWaiters]) w();
  }

  private retry(reason: string): void {
    if (this.stopped) return;
    // One warning per outage; repeats only at debug so a long outage does not flood the log.
    const level = this.lastError === undefined ? 'warn' : 'debug';
    this.log[level]({ event: 'modbus.bus.down', bus: this.cfg.id, at: describeBus(this.cfg), reason, retryInMs: this.retryMs }, `bus ${this.cfg.id} not connected: ${reason}; retrying`);
    this.lastError = reason;
    for (const w of [...this.openWaiters]) w();
    this.retryTimer = setTimeout(() => void this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  private drop(client: Client, reason: string): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.drops += 1;
    const err = new ModbusCommsError({ kind: 'disconnected', text: `bus link lost (${reason})` });
    for (const fail of [...this.inflight]) fail(err);
    void shut(client);
    this.retry(reason);
  }

  /** One request on the open link; rejects with a ModbusCommsError, never hangs past the timeout. */
  async request<T>(unit: number, send: (c: Client) => Promise<T>): Promise<T> {
    const client = this.client;
    if (!client || !client.isOpen) throw new ModbusCommsError({ kind: 'disconnected', text: `bus not connected${this.lastError ? ` (${this.lastError})` : ''}` });
    client.setID(unit);
    try {
      const result = await new Promise<T>((resolve, reject) => {
        // modbus-serial forgets pending requests when its port is destroyed: this guard settles them.
        const guard = setTimeout(() => fail(new ModbusCommsError(timeoutFault(this.cfg.timeoutMs))), this.cfg.timeoutMs + 500);
        const fail = (err: ModbusCommsError) => {
          clearTimeout(guard);
          this.inflight.delete(fail);
          reject(err);
        };
        this.inflight.add(fail);
        send(client).then(
          (v) => {
            clearTimeout(guard);
            this.inflight.delete(fail);
            resolve(v);
          },
          (e: unknown) => fail(new ModbusCommsError(classifyError(e, this.cfg.timeoutMs))),
        );
      });
      this.answered();
      return result;
    } catch (err) {
      const kind = (err as ModbusCommsError).fault.kind;
      if (kind === 'timeout') this.noAnswer(client);
      else if (kind !== 'disconnected') this.answered();
      throw err;
    }
  }

  private answered(): void {
    this.lastAnswerAt = Date.now();
    this.timeoutsInARow = 0;
  }

  /** A TCP link whose far end vanished without closing, or a serial port that stopped delivering, gets recycled. */
  private noAnswer(client: Client): void {
    this.timeoutsInARow += 1;
    if (this.timeoutsInARow >= SILENT_LINK_TIMEOUTS && Date.now() - this.lastAnswerAt > SILENT_LINK_MS) this.drop(client, `no answer from any unit for ${SILENT_LINK_MS / 1000} s`);
  }

  async read(unit: number, fn: 3 | 4, address: number, count: number): Promise<number[]> {
    const res = await this.request(unit, (c) => (fn === 3 ? c.readHoldingRegisters(address, count) : c.readInputRegisters(address, count)));
    return res.data;
  }

  async readBit(unit: number, fn: 1 | 2, address: number): Promise<boolean> {
    const res = await this.request(unit, (c) => (fn === 1 ? c.readCoils(address, 1) : c.readDiscreteInputs(address, 1)));
    return res.data[0] === true;
  }

  async writeCoil(unit: number, address: number, value: boolean): Promise<void> {
    await this.request(unit, (c) => c.writeCoil(address, value));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    const err = new ModbusCommsError({ kind: 'disconnected', text: 'bus stopped' });
    for (const fail of [...this.inflight]) fail(err);
    for (const w of [...this.openWaiters]) w();
    if (client) await shut(client);
  }
}

/** Why a request got no usable answer, named the way the Modbus spec and a technician name it. */
/** backoff: not asked at all, because the slave timed out repeatedly and is being left alone for a while. */
export type CommsFaultKind = 'timeout' | 'backoff' | 'crc' | 'exception' | 'disconnected' | 'io';

export interface CommsFault {
  kind: CommsFaultKind;
  /** The exception code when kind is 'exception'. */
  code?: number;
  /** Short, e.g. "timeout (no answer in 1000 ms)", "exception 02 illegal data address". */
  text: string;
}

export const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

/** Thrown by the bus link itself, so that callers classify one kind of error object. */
export class ModbusCommsError extends Error {
  constructor(readonly fault: CommsFault) {
    super(fault.text);
    this.name = 'ModbusCommsError';
  }
}

export function exceptionFault(code: number): CommsFault {
  const name = EXCEPTION_NAMES[code] ?? 'unknown exception';
  return { kind: 'exception', code, text: `exception ${code.toString(16).toUpperCase().padStart(2, '0')} ${name}` };
}

export function timeoutFault(timeoutMs: number): CommsFault {
  return { kind: 'timeout', text: `timeout (no answer in ${timeoutMs} ms)` };
}

/**
 * modbus-serial reports timeouts and a closed port with objects that are not `instanceof Error`
 * (name TransactionTimedOutError / errno ETIMEDOUT, PortNotOpenError), exceptions as Errors with
 * `modbusCode`, and CRC errors as plain Errors: so this looks at fields, not classes.
 */
export function classifyError(err: unknown, timeoutMs: number): CommsFault {
  if (err instanceof ModbusCommsError) return err.fault;
  const e = (typeof err === 'object' && err !== null ? err : {}) as { name?: unknown; errno?: unknown; message?: unknown; modbusCode?: unknown; code?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (typeof e.modbusCode === 'number') return exceptionFault(e.modbusCode);
  if (e.name === 'TransactionTimedOutError' || e.errno === 'ETIMEDOUT') return timeoutFault(timeoutMs);
  if (/crc/i.test(message)) return { kind: 'crc', text: 'CRC error (garbled answer)' };
  if (e.name === 'PortNotOpenError' || e.code === 'ECONNREFUSED' || e.code === 'ENOENT' || e.code === 'ECONNRESET') return { kind: 'disconnected', text: `bus not connected (${message})` };
  return { kind: 'io', text: message };
}

/** What a person should try for each fault, shown by `coldgate check`. */
export function hintFor(fault: CommsFault): string {
  switch (fault.kind) {
    case 'timeout':
    case 'backoff':
      return 'no answer: check the unit id, wiring (A/B swapped?), baud rate and parity, and that the device has power';
    case 'crc':
      return 'garbled answers: check baud rate and parity, bus termination (120 ohm at both ends) and cable shielding';
    case 'disconnected':
      return 'the bus is not open: check the serial device path or the host and port, and that no other program holds it';
    case 'exception':
      if (fault.code === 1) return 'the device does not support this function: try function 3 (holding) instead of 4 (input) or the reverse';
      if (fault.code === 2) return 'the device has no such register: check the address (0-based on the wire) and function in its manual';
      if (fault.code === 10 || fault.code === 11) return 'the gateway cannot reach the device behind it: check the unit id and the serial side of the gateway';
      return 'the device refused the request: check its manual for this exception';
    case 'io':
      return 'unexpected error: see the log';
  }
}

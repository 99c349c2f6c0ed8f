#!/usr/bin/python3
"""A Modbus slave for coldgate's tests, built on pymodbus 3.0 (an implementation independent of ours).

Usage: modbus_slave.py (--tcp PORT | --rtu-tcp PORT | --serial PATH [--baud N]) SPEC_JSON

SPEC_JSON: {"units": {"1": {"ir": {"0": [215, 216]}, "hr": {...}, "co": {"0": [0, 0]},
                            "fail": {"ir": [7]}, "delay": 0.3}}}
  ir/hr/co  registers (or coils) from an address on; any address not listed answers exception 02
  fail      addresses whose read answers exception 04 (server device failure)
  delay     seconds the unit takes to answer (a slow slave; it holds up the whole server as on RS-485)
Unit ids not in "units" never answer (a dead slave).

Prints `ready` once it serves. Reads commands on stdin, one per line, answering one line each:
  set UNIT TABLE ADDR V...   -> ok
  get UNIT TABLE ADDR COUNT  -> a JSON array
Exits when stdin closes, so a test that dies takes its peer with it.
"""
import argparse
import asyncio
import json
import sys
import time

from pymodbus.datastore import ModbusServerContext, ModbusSlaveContext, ModbusSparseDataBlock
from pymodbus.framer.rtu_framer import ModbusRtuFramer
from pymodbus.server.async_io import ModbusSerialServer, ModbusTcpServer


class Block(ModbusSparseDataBlock):
    """Sparse registers that can be slow or fail at chosen addresses."""

    def __init__(self, values, fail=(), delay=0.0):
        super().__init__(values or {65535: 0})
        if not values:
            del self.values[65535]
        self.fail = set(fail)
        self.delay = delay

    def validate(self, address, count=1):
        return count > 0 and all(a in self.values or a in self.fail for a in range(address, address + count))

    def getValues(self, address, count=1):
        if self.delay:
            time.sleep(self.delay)
        if any(a in self.fail for a in range(address, address + count)):
            raise IOError(f"sensor board failure at {address}")
        return super().getValues(address, count)


def expand(table):
    """{"10": [1, 2]} -> {10: 1, 11: 2}"""
    out = {}
    for start, values in (table or {}).items():
        values = values if isinstance(values, list) else [values]
        for i, v in enumerate(values):
            out[int(start) + i] = int(v)
    return out


def build_context(spec):
    slaves = {}
    for unit, u in spec.get("units", {}).items():
        fail = u.get("fail", {})
        delay = float(u.get("delay", 0))
        blocks = {t: Block(expand(u.get(t)), fail.get(t, ()), delay) for t in ("ir", "hr", "co", "di")}
        slaves[int(unit)] = ModbusSlaveContext(zero_mode=True, **blocks)
    return ModbusServerContext(slaves=slaves, single=False)


FC = {"hr": 3, "ir": 4, "co": 1, "di": 2}


def command(context, line):
    parts = line.split()
    if len(parts) >= 5 and parts[0] == "set":
        context[int(parts[1])].setValues(FC[parts[2]], int(parts[3]), [int(v) for v in parts[4:]])
        return "ok"
    if len(parts) == 5 and parts[0] == "get":
        values = context[int(parts[1])].store[parts[2][0]].values
        return json.dumps([int(values.get(a, 0)) for a in range(int(parts[3]), int(parts[3]) + int(parts[4]))])
    return "error: " + line


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcp", type=int)
    ap.add_argument("--rtu-tcp", type=int)
    ap.add_argument("--serial")
    ap.add_argument("--baud", type=int, default=19200)
    ap.add_argument("spec")
    args = ap.parse_args()
    context = build_context(json.loads(args.spec))
    if args.serial:
        server = ModbusSerialServer(context, ModbusRtuFramer, port=args.serial, baudrate=args.baud,
                                    ignore_missing_slaves=True, auto_reconnect=True, reconnect_delay=0.2)
        await server.start()
    else:
        framer = ModbusRtuFramer if args.rtu_tcp else None
        kwargs = {"framer": framer} if framer else {}
        server = ModbusTcpServer(context, address=("127.0.0.1", args.tcp or args.rtu_tcp),
                                 ignore_missing_slaves=True, allow_reuse_address=True, **kwargs)
    task = asyncio.create_task(server.serve_forever())
    if not args.serial:
        await server.serving
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        print(command(context, line), flush=True)
    task.cancel()


if __name__ == "__main__":
    asyncio.run(main())

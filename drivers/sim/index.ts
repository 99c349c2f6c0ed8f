import type { Logger } from '../../src/core/log.ts';
import type { SimConfig } from '../../src/config/schema-sim.ts';
import { defaultParams, stepThermal, type ThermalParams, type ThermalState } from './thermal.ts';
import { DEMO_ROUTE, fixOf, openDoors, startVehicle, stepVehicle, type VehicleState } from './route.ts';
import { epochSentences } from './nmea-format.ts';
import { startModbusServer, type RegisterSource } from './modbus-server.ts';
import { startNmeaServer } from './nmea-server.ts';

export interface Simulator {
  /** Current air temperature per compartment, for tests that compare what the drivers read. */
  air(): number[];
  close(): Promise<void>;
}

interface Compartment {
  params: ThermalParams;
  state: ThermalState;
  /** Where each probe sits: near the evaporator it reads colder, near the door warmer. */
  probeOffsets: number[];
}

const STEP_MS = 250;

function toRegister(celsius: number): number {
  const tenths = Math.round(celsius * 10);
  return tenths < 0 ? tenths + 0x10000 : tenths;
}

/**
 * Simulated devices that speak the real protocols: a Modbus TCP probe module (unit 1, input and
 * holding register i = probe i in int16 tenths of a degree, discrete input i = door of
 * compartment i, coils for a buzzer) and an NMEA 0183 source driving a delivery round.
 * Doors open at the stops the route says (see DEMO_ROUTE), so compartments warm at deliveries.
 */
export async function startSimulator(cfg: SimConfig, log: Logger): Promise<Simulator> {
  const rooms: Compartment[] = (cfg.modbus?.compartments ?? []).map((c) => ({
    params: defaultParams(c.setpoint),
    state: { air: c.setpoint, compressorOn: false, doorOpen: false },
    probeOffsets: Array.from({ length: c.probes }, (_, i) => (i % 2 === 0 ? -0.4 : 0.5) * (1 + i / 4)),
  }));
  const probes = rooms.flatMap((room) => room.probeOffsets.map((offset) => ({ room, offset })));
  const coils = new Map<number, boolean>();
  const source: RegisterSource = {
    register(addr) {
      const probe = probes[addr];
      if (!probe) return undefined;
      const noise = (Math.random() - 0.5) * 0.1;
      return toRegister(probe.room.state.air + probe.offset + noise);
    },
    discrete: (addr) => rooms[addr]?.state.doorOpen,
    coil: (addr) => (addr < 16 ? (coils.get(addr) ?? false) : undefined),
    setCoil(addr, value) {
      // The gateway re-asserts its buzzer every 30 s; only a change is news.
      if (coils.get(addr) !== value) log.info({ coil: addr, value }, `sim coil ${addr} ${value ? 'ON (buzzer sounding)' : 'off'}`);
      coils.set(addr, value);
    },
  };

  const modbus = cfg.modbus ? await startModbusServer(source, cfg.modbus.host, cfg.modbus.port, log) : undefined;
  const nmea = cfg.nmea ? await startNmeaServer(cfg.nmea.host, cfg.nmea.port, log) : undefined;
  const speedup = cfg.modbus?.speedup ?? 1;

  let vehicle: VehicleState = startVehicle(DEMO_ROUTE);
  let lastEpoch = 0;
  const thermalTimer = setInterval(() => {
    const dt = (STEP_MS / 1000) * speedup;
    vehicle = stepVehicle(vehicle, DEMO_ROUTE, STEP_MS / 1000);
    const open = openDoors(vehicle, DEMO_ROUTE);
    rooms.forEach((room, i) => {
      room.state = stepThermal({ ...room.state, doorOpen: open.has(i) }, room.params, dt);
    });
    const now = Date.now();
    if (nmea && cfg.nmea && now - lastEpoch >= cfg.nmea.intervalMs) {
      lastEpoch = now;
      nmea.broadcast(epochSentences(fixOf(vehicle, DEMO_ROUTE), new Date(now)));
    }
  }, STEP_MS);

  return {
    air: () => rooms.map((r) => r.state.air),
    async close() {
      clearInterval(thermalTimer);
      await Promise.all([modbus?.close(), nmea?.close()]);
    },
  };
}

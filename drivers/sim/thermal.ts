/**
 * A reefer compartment's air temperature, stepped in simulated seconds. Newton cooling towards
 * the ambient when the compressor is off, a fixed pull-down when it is on, a thermostat band
 * around the setpoint, and a door that lets warm air in while open.
 *
 * Worked example (chiller, setpoint 3 C, band 1 C, ambient 25 C): from 3 C with the compressor
 * off the air warms ~0.03 C/s towards 25 C; at 4 C the compressor starts and pulls ~0.05 C/s net
 * until 2 C, so the air cycles 2..4 C every few minutes, and an open door adds ~0.2 C/s.
 */
export interface ThermalParams {
  setpoint: number;
  band: number;
  ambient: number;
  /** 1/s: how fast the air follows the ambient through the walls. */
  leak: number;
  /** C/s the compressor removes. */
  cooling: number;
  /** 1/s extra exchange with the ambient while the door is open. */
  doorLeak: number;
}

export interface ThermalState {
  air: number;
  compressorOn: boolean;
  doorOpen: boolean;
}

export function defaultParams(setpoint: number): ThermalParams {
  // A freezer has better insulation and a stronger unit than a chiller.
  const frozen = setpoint < -5;
  return { setpoint, band: 1, ambient: 25, leak: frozen ? 0.0006 : 0.0014, cooling: frozen ? 0.06 : 0.08, doorLeak: 0.01 };
}

export function stepThermal(s: ThermalState, p: ThermalParams, dtSec: number): ThermalState {
  let compressorOn = s.compressorOn;
  if (s.air > p.setpoint + p.band) compressorOn = true;
  else if (s.air < p.setpoint - p.band) compressorOn = false;
  const exchange = (p.leak + (s.doorOpen ? p.doorLeak : 0)) * (p.ambient - s.air);
  const air = s.air + (exchange - (compressorOn ? p.cooling : 0)) * dtSec;
  return { air, compressorOn, doorOpen: s.doorOpen };
}

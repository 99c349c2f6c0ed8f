import type { ProbeCalibration, ProbeConfig } from '../config/schema-modbus.ts';

/** A probe's calibration as a trip report shows it, with the verdict at the time. */
export interface ProbeCalibrationStatus {
  probe: string;
  compartment?: string;
  /** Absent: the config records no calibration for this probe. */
  calibration?: ProbeCalibration;
  ageDays?: number;
  /** A sentence when the calibration is older than trips.calibrationMaxAgeDays. */
  warning?: string;
}

const DAY_MS = 86_400_000;

/**
 * Each probe's calibration and whether it is overdue at `nowMs`. Calibrated 2025-01-10, max
 * 365 days, now 2026-03-01 -> ageDays 415 and a warning naming the probe, the date and what to do.
 */
export function calibrationStatus(probes: readonly Pick<ProbeConfig, 'id' | 'compartment' | 'calibration'>[], maxAgeDays: number, nowMs: number): ProbeCalibrationStatus[] {
  return probes.map((p) => {
    const base = { probe: p.id, ...(p.compartment !== undefined && { compartment: p.compartment }) };
    if (!p.calibration) return base;
    const ageDays = Math.floor((nowMs - Date.parse(`${p.calibration.calibratedAt}T00:00:00Z`)) / DAY_MS);
    const overdue = ageDays > maxAgeDays;
    return {
      ...base,
      calibration: p.calibration,
      ageDays,
      ...(overdue && {
        warning: `probe ${p.id}: calibrated ${p.calibration.calibratedAt}, ${ageDays} days ago (more than trips.calibrationMaxAgeDays ${maxAgeDays}): have it calibrated and set probes[].calibration to the new certificate`,
      }),
    };
  });
}

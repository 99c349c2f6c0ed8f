/**
 * Running trip statistics: small enough to persist after every reading, and MKT needs no list
 * of samples because it only depends on the mean of exp(-dH/(R*T)).
 */
export interface RunningStats {
  n: number;
  min: number | null;
  max: number | null;
  sum: number;
  /** Sum of exp(-dH/(R*T_i)), T in kelvin. */
  sumArrhenius: number;
}

/** dH/R in kelvin: dH = 83.144 kJ/mol, R = 8.3144 J/mol/K (REFERENCE.md). */
export const DH_OVER_R = 10_000;
const KELVIN = 273.15;

export const EMPTY_STATS: RunningStats = { n: 0, min: null, max: null, sum: 0, sumArrhenius: 0 };

export function addSample(s: RunningStats, celsius: number): RunningStats {
  return {
    n: s.n + 1,
    min: s.min === null ? celsius : Math.min(s.min, celsius),
    max: s.max === null ? celsius : Math.max(s.max, celsius),
    sum: s.sum + celsius,
    sumArrhenius: s.sumArrhenius + Math.exp(-DH_OVER_R / (celsius + KELVIN)),
  };
}

export function mean(s: RunningStats): number | null {
  return s.n === 0 ? null : s.sum / s.n;
}

/**
 * MKT = (dH/R) / -ln(mean(exp(-dH/(R*T_i)))) in kelvin, returned in C.
 * [2, 4, 8, 5] C -> 5.042; 23 x 4 C + 1 x 15 C -> 4.898; 10 x -18 + 2 x -12 -> -16.574.
 * A spike weighs more than its share of time, so MKT is never below the arithmetic mean.
 */
export function meanKineticTemperature(s: RunningStats): number | null {
  if (s.n === 0) return null;
  return DH_OVER_R / -Math.log(s.sumArrhenius / s.n) - KELVIN;
}

/** A step of a config change that took longer than it may. */
export class DeadlineError extends Error {}

/**
 * Resolves as `step` does, or rejects with DeadlineError once `ms` have passed. A step that
 * finishes after its deadline is handed to `onLate` (e.g. to stop a gateway that started too
 * late), so nothing it started is left running unowned.
 */
export function withDeadline<T>(step: Promise<T>, ms: number, onLate?: (value: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new DeadlineError(`not done within ${ms} ms`));
    }, ms);
    step.then(
      (value) => {
        clearTimeout(timer);
        if (late) onLate?.(value);
        else resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (!late) reject(err);
      },
    );
  });
}

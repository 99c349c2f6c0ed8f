/** Config fields that never leave the box in a reply; `set-config` keeps the current value where it finds the marker. */
const SECRET_PATHS = [
  ['uplink', 'password'],
  ['local', 'pin'],
] as const;

export const KEEP = '(unchanged)';

type Doc = Record<string, unknown>;

function parentOf(doc: Doc, keys: readonly string[]): Doc | undefined {
  let node: unknown = doc;
  for (const key of keys.slice(0, -1)) {
    node = (node as Doc | undefined)?.[key];
    if (typeof node !== 'object' || node === null) return undefined;
  }
  return node as Doc;
}

/**
 * A copy of `doc` with every secret that is set replaced by `mark(path, value)`, by default
 * the marker that set-config understands as "keep the current value".
 */
export function redactSecrets(doc: Doc, mark: (path: string, value: unknown) => unknown = () => KEEP): Doc {
  const out = structuredClone(doc);
  for (const keys of SECRET_PATHS) {
    const parent = parentOf(out, keys);
    const leaf = keys[keys.length - 1]!;
    if (parent && parent[leaf] !== undefined) parent[leaf] = mark(keys.join('.'), parent[leaf]);
  }
  return out;
}

/** The secret at `path` (e.g. `uplink.password`) in `doc`, if there is one. */
export function secretAt(doc: Doc, path: string): unknown {
  const keys = path.split('.');
  return parentOf(doc, keys)?.[keys[keys.length - 1]!];
}

/**
 * A copy of `incoming` where each secret left as the marker takes the value from `current`,
 * so that get-config, edit, set-config never needs the password in hand.
 * Returns the field paths that were marked but have no current value to keep.
 */
export function restoreSecrets(incoming: Doc, current: Doc): { doc: Doc; missing: string[] } {
  const doc = structuredClone(incoming);
  const missing: string[] = [];
  for (const keys of SECRET_PATHS) {
    const parent = parentOf(doc, keys);
    const leaf = keys[keys.length - 1]!;
    if (parent?.[leaf] !== KEEP) continue;
    const value = parentOf(current, keys)?.[leaf];
    if (value === undefined) missing.push(keys.join('.'));
    else parent[leaf] = value;
  }
  return { doc, missing };
}

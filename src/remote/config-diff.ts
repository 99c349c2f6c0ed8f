import { redactSecrets, secretAt } from './secrets.ts';

type Doc = Record<string, unknown>;

export interface ConfigChange {
  path: string;
  from?: unknown;
  to?: unknown;
}

/** More than this many changed fields are summed up in one line: an event stays readable. */
const MAX_CHANGES = 100;

const isNode = (v: unknown): v is Doc => typeof v === 'object' && v !== null;

function walk(path: string, a: unknown, b: unknown, out: ConfigChange[]): void {
  if (isNode(a) && isNode(b) && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) walk(Array.isArray(a) ? `${path}[${key}]` : path ? `${path}.${key}` : key, a[key], b[key], out);
    return;
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  out.push({ path: path || '(root)', ...(a !== undefined && { from: a }), ...(b !== undefined && { to: b }) });
}

/**
 * Field by field, what changes from config file `before` to `after`, for the events record of a
 * remote change. Secrets never appear: a secret reads `(secret)`, or `(secret, new)` where it
 * changed, so the record says that the PIN changed but not what to.
 *   {local:{pin:'1234'}, probes:[{id:'a'}]} -> {local:{pin:'9999'}, probes:[{id:'b'}]}
 *   -> [{path:'local.pin', from:'(secret)', to:'(secret, new)'}, {path:'probes[0].id', from:'a', to:'b'}]
 */
export function configChanges(before: Doc, after: Doc): ConfigChange[] {
  const out: ConfigChange[] = [];
  walk('', redactSecrets(before, () => '(secret)'), redactSecrets(after, (path, value) => (value === secretAt(before, path) ? '(secret)' : '(secret, new)')), out);
  if (out.length <= MAX_CHANGES) return out;
  return [...out.slice(0, MAX_CHANGES), { path: `(and ${out.length - MAX_CHANGES} more fields)` }];
}

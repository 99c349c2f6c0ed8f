import type { z } from 'zod';

/** `probes[2].address` rather than zod's array of keys. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out || '(root)';
}

/** Fields whose value never appears in an error (uplink.password, local.pin, the answers' broker.password and pin). */
const SECRET_KEYS: ReadonlySet<PropertyKey> = new Set(['password', 'pin']);
export const REDACTED = '(redacted)';

/** `mqtts://van-17:Hunter2@host:8883` -> `mqtts://van-17:(redacted)@host:8883`, wherever such a URL sits in the text. */
export function redactUrlPasswords(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^/:@\s"]*):[^/\s"]*@/gi, `$1:${REDACTED}@`);
}

/** What was received, as a person reads it: secrets (by field name, also nested) and URL passwords replaced. */
function describeInput(input: unknown, path: readonly PropertyKey[]): string {
  if (input === undefined) return 'nothing';
  if (SECRET_KEYS.has(path[path.length - 1] ?? '')) return REDACTED;
  const text = JSON.stringify(input, (key, value: unknown) => (SECRET_KEYS.has(key) && value !== undefined ? REDACTED : typeof value === 'string' ? redactUrlPasswords(value) : value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** One line per problem: `field.path: what was expected, received X` (X redacted for secrets). */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const where = formatPath(issue.path);
    if (issue.code === 'unrecognized_keys') return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (check the spelling against config/schema.json)`;
    const message = issue.message.replace(/^Invalid input: /, '');
    const hasInput = 'input' in issue && issue.code !== 'custom' && !/received/.test(message);
    return hasInput ? `${where}: ${message}, received ${describeInput(issue.input, issue.path)}` : `${where}: ${message}`;
  });
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

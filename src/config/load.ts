import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, formatIssues } from './errors.ts';
import { JsonTextError, parseJsonText } from './json-text.ts';
import { GatewayConfig } from './schema.ts';

/** Environment variables that win over the file (systemd EnvironmentFile, containers, tests). */
const OVERRIDES = {
  COLDGATE_DATA_DIR: ['dataDir'],
  COLDGATE_MQTT_URL: ['uplink', 'url'],
  COLDGATE_MQTT_USERNAME: ['uplink', 'username'],
  COLDGATE_MQTT_PASSWORD: ['uplink', 'password'],
  COLDGATE_MQTT_CA: ['uplink', 'tls', 'ca'],
  COLDGATE_MQTT_CERT: ['uplink', 'tls', 'cert'],
  COLDGATE_MQTT_KEY: ['uplink', 'tls', 'key'],
  COLDGATE_HTTP_PORT: ['local', 'http', 'port'],
  COLDGATE_LOG_LEVEL: ['logLevel'],
} as const satisfies Record<string, readonly string[]>;

export interface LoadedConfig {
  file: string;
  config: GatewayConfig;
  /** Names of the environment variables that changed the file's values. */
  overrides: string[];
}

function setPath(target: Record<string, unknown>, keys: readonly string[], value: unknown) {
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

export function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): string[] {
  const applied: string[] = [];
  for (const [name, keys] of Object.entries(OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const typed = name === 'COLDGATE_HTTP_PORT' && /^\d+$/.test(value) ? Number(value) : value;
    setPath(raw, keys, typed);
    applied.push(name);
  }
  // An external broker replaces the embedded one: the demo must not shadow the real target.
  if (env.COLDGATE_MQTT_URL && typeof raw.uplink === 'object' && raw.uplink !== null) delete (raw.uplink as Record<string, unknown>).embeddedBroker;
  return applied;
}

/** Validates an already-parsed document; `file` names it in errors and anchors relative paths. */
export function parseConfig(raw: unknown, file: string, env: NodeJS.ProcessEnv = {}): LoadedConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(file, ['(root): expected a JSON object']);
  const doc = structuredClone(raw) as Record<string, unknown>;
  const overrides = applyEnvOverrides(doc, env);
  const result = GatewayConfig.safeParse(doc, { reportInput: true });
  if (!result.success) throw new ConfigError(file, formatIssues(result.error.issues));
  const config = result.data;
  // A path from the environment is the caller's, relative to where it runs; one in the file is relative to the file.
  const base = overrides.includes('COLDGATE_DATA_DIR') ? process.cwd() : path.dirname(path.resolve(file));
  config.dataDir = path.resolve(base, config.dataDir);
  return { file, config, overrides };
}

/**
 * The JSON document in a config, answers or similar file. Problems come as a ConfigError naming
 * the file, one line each, never quoting the file's text (it holds the broker password).
 */
export function readJsonFile(file: string, missing = 'file not found'): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [code === 'ENOENT' ? missing : `cannot read: ${(err as Error).message}`]);
  }
  try {
    return parseJsonText(text);
  } catch (err) {
    if (err instanceof JsonTextError) throw new ConfigError(file, [err.message]);
    throw err;
  }
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  return parseConfig(readJsonFile(file, 'file not found (pass --config with the path of a config file)'), file, env);
}

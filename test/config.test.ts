import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../src/config/load.ts';
import { ConfigError } from '../src/config/errors.ts';
import { configJsonSchema } from '../src/config/json-schema.ts';
import { tempDir } from './helpers/tmp.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const tmp = tempDir('config-');
afterAll(() => tmp.cleanup());

function problems(raw: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(raw, 'bad.json', env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const bus = { id: 'b', type: 'tcp', host: '10.0.0.5' };
const probe = (id: string, address: number) => ({ id, bus: 'b', unit: 1, address });

describe('config validation', () => {
  it.each([
    ['a string where an integer belongs', { probes: [probe('p', 0), { ...probe('q', 1), address: '40001' }] }, ['probes[1].address: expected an integer 0..65535, received "40001"']],
    ['a port out of range', { buses: [{ ...bus, port: 70000 }] }, ['buses[0].port: expected an integer 1..65535, received 70000']],
    ['an unknown key', { gatewayID: 'x' }, ['(root): unknown key "gatewayID" (check the spelling against config/schema.json)']],
    ['a duplicate probe id', { probes: [probe('p', 0), probe('p', 1)] }, ['probes[1].id: duplicate id "p" (also probes[0])']],
    ['a probe on a bus that does not exist', { probes: [{ ...probe('p', 0), bus: 'nope' }] }, ['probes[0].bus: no bus with id "nope" (known: b)']],
    ['a low limit above the high limit', { probes: [{ ...probe('p', 0), compartment: 'c' }], compartments: [{ id: 'c', name: 'C', low: 8, high: 2 }] }, ['compartments[0].low: low limit 8 must be below high limit 2']],
    [
      'a compartment no probe feeds',
      { probes: [{ ...probe('p', 0), compartment: 'front' }], compartments: [{ id: 'front', name: 'Front', preset: 'chilled' }, { id: 'rear', name: 'Rear', preset: 'frozen' }] },
      ['compartments[1]: no probe feeds compartment "rear", so it can never alarm: set "compartment": "rear" on its probes (probes[].compartment), or remove the compartment'],
    ],
    ['a bad gateway id', { gatewayId: 'van 1/#' }, [expect.stringMatching(/^gatewayId: expected an id/)]],
  ])('names the field for %s', (_name, patch, expected) => {
    expect(problems({ gatewayId: 'van-1', buses: [bus], ...patch })).toEqual(expected);
  });

  it('reports every problem, not only the first', () => {
    const out = problems({ gatewayId: 'van-1', buses: [{ ...bus, port: 0 }], probes: [{ ...probe('p', -1), unit: 300 }], logLevel: 'loud' });
    expect(out).toHaveLength(4);
    expect(out.map((p) => p.split(':')[0]).sort()).toEqual(['buses[0].port', 'logLevel', 'probes[0].address', 'probes[0].unit']);
  });

  it('fills defaults and resolves the data dir against the config file', () => {
    const { config } = parseConfig({ gatewayId: 'van-1' }, '/etc/coldgate/config.json');
    expect(config.dataDir).toBe('/etc/coldgate/data');
    expect(config.uplink).toMatchObject({ url: 'mqtt://127.0.0.1:1883', protocolVersion: 5, topicRoot: 'coldgate/v1' });
    expect(config.journal.fsync).toBe(true);
  });

  it('lets the environment win over the file and says which overrides applied', () => {
    const env = { COLDGATE_MQTT_URL: 'mqtts://broker.example:8883', COLDGATE_HTTP_PORT: '9090', COLDGATE_DATA_DIR: 'var/data', COLDGATE_MQTT_PASSWORD: 's3cret' };
    const { config, overrides } = parseConfig({ gatewayId: 'van-1', uplink: { embeddedBroker: {} } }, '/etc/coldgate/config.json', env);
    expect(config.uplink.url).toBe('mqtts://broker.example:8883');
    expect(config.uplink.embeddedBroker).toBeUndefined();
    expect(config.local.http.port).toBe(9090);
    expect(config.dataDir).toBe(path.resolve('var/data'));
    expect(overrides.sort()).toEqual(['COLDGATE_DATA_DIR', 'COLDGATE_HTTP_PORT', 'COLDGATE_MQTT_PASSWORD', 'COLDGATE_MQTT_URL']);
  });

  it('never echoes a secret it refuses: passwords, PINs, credentials in a URL', () => {
    const out = problems(
      { gatewayId: 'van-17', uplink: { url: 'mqtts://van-17:Hunter2xyz@broker.example:8883', password: 12345 }, local: { pin: '12a4' } },
      {},
    );
    expect(out).toEqual([
      'uplink.url: must not hold credentials (user:password@): use uplink.username/password or COLDGATE_MQTT_USERNAME/PASSWORD, received "mqtts://van-17:(redacted)@broker.example:8883"',
      'uplink.password: expected string, received number',
      'local.pin: expected a PIN of 4 to 8 digits, received (redacted)',
    ]);
    // From the environment too, and where a whole section is wrong and would be quoted.
    const env = problems({ gatewayId: 'van-17' }, { COLDGATE_MQTT_URL: 'mqtt://ops:Hunter2xyz@10.0.0.9' });
    expect(env).toEqual([expect.stringMatching(/^uplink\.url: .*, received "mqtt:\/\/ops:\(redacted\)@10\.0\.0\.9"$/)]);
    const section = problems({ gatewayId: 'van-17', local: [{ pin: '9876' }], uplink: ['mqtt://u:Hunter2xyz@h', { password: 'Hunter2xyz' }] });
    expect(section).toHaveLength(2);
    for (const line of [...out, ...env, ...section]) expect(line).not.toMatch(/Hunter2|12a4|9876|12345/);
  });

  it('reads a config saved with a byte order mark', () => {
    const file = path.join(tmp.dir, 'bom.json');
    writeFileSync(file, `\ufeff${JSON.stringify({ gatewayId: 'van-bom' })}`);
    expect(loadConfig(file, {}).config.gatewayId).toBe('van-bom');
  });

  it('says where a file is not JSON without quoting it (it holds the password)', () => {
    const file = path.join(tmp.dir, 'unquoted.json');
    writeFileSync(file, '{\n  "gatewayId": "van-1",\n  "uplink": { "password": Hunter2xyz }\n}\n');
    expect(() => loadConfig(file, {})).toThrow(/^[^\n]*unquoted\.json: 1 problem\n {2}not valid JSON at line 3, column 27: unexpected character$/);
  });

  it('says the file is not JSON, or missing', () => {
    const file = path.join(tmp.dir, 'broken.json');
    writeFileSync(file, '{"gatewayId": "van-1",');
    expect(() => loadConfig(file, {})).toThrow(/not valid JSON/);
    expect(() => loadConfig(path.join(tmp.dir, 'absent.json'), {})).toThrow(/file not found/);
  });

  it('ships example configs that validate, the README\'s included', () => {
    expect(loadConfig(path.join(ROOT, 'config/demo.json'), {}).config.gatewayId).toBe('demo-van-01');
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const block = /Write a config[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(parseConfig(JSON.parse(block!), path.join(ROOT, 'config/van-17.json')).config.probes).toHaveLength(2);
  });

  it('keeps config/schema.json in step with the zod schema (run npm run schema)', () => {
    const committed = JSON.parse(readFileSync(path.join(ROOT, 'config/schema.json'), 'utf8'));
    expect(committed).toEqual(configJsonSchema());
  });
});

const run = promisify(execFile);
async function coldgate(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/coldgate.ts', ...args], { cwd: ROOT, env: { ...process.env, COLDGATE_MQTT_URL: '' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('coldgate validate and run on bad input', () => {
  it('prints every problem on its own line with the file and field, exit 2', async () => {
    const file = path.join(tmp.dir, 'problems.json');
    const url = 'mqtts://van-1:Hunter2xyz@broker.example:8883';
    writeFileSync(file, JSON.stringify({ gatewayId: 'van-1', uplink: { url }, buses: [bus], probes: [{ ...probe('p', 0), address: '40001' }], local: { pin: '12a4' } }));
    const { code, stderr } = await coldgate('validate', '--config', file);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual([
      `${file}: uplink.url: must not hold credentials (user:password@): use uplink.username/password or COLDGATE_MQTT_USERNAME/PASSWORD, received "mqtts://van-1:(redacted)@broker.example:8883"`,
      `${file}: probes[0].address: expected an integer 0..65535, received "40001"`,
      `${file}: local.pin: expected a PIN of 4 to 8 digits, received (redacted)`,
    ]);
  });

  it('validate says ok for a good config, exit 0', async () => {
    const { code, stdout } = await coldgate('validate', '--config', 'config/demo.json');
    expect(code).toBe(0);
    expect(stdout).toMatch(/config\/demo.json: valid \(gateway demo-van-01, 4 probes on 1 buses, gps on\)/);
  });

  it('run refuses a bad config before touching any device, exit 2', async () => {
    const file = path.join(tmp.dir, 'bad-run.json');
    writeFileSync(file, JSON.stringify({ gatewayId: 'van-1', buses: [{ ...bus, port: 0 }] }));
    const { code, stderr } = await coldgate('run', '--config', file);
    expect(code).toBe(2);
    expect(stderr).toContain(`${file}: buses[0].port: expected an integer 1..65535, received 0`);
    expect(stderr).toContain('not started');
  });

  it('run refuses an unwritable data directory, exit 2', async () => {
    const blocker = path.join(tmp.dir, 'a-file');
    writeFileSync(blocker, '');
    const file = path.join(tmp.dir, 'bad-dir.json');
    writeFileSync(file, JSON.stringify({ gatewayId: 'van-1', dataDir: path.join(blocker, 'data'), local: { http: { port: 0 } } }));
    const { code, stderr } = await coldgate('run', '--config', file);
    expect(code).toBe(2);
    expect(stderr).toMatch(/data directory .*a-file\/data is not writable/);
  });

  it('unknown commands and options are usage errors, exit 2; --help is not', async () => {
    expect((await coldgate('frobnicate')).code).toBe(2);
    expect((await coldgate()).code).toBe(2);
    const help = await coldgate('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: coldgate <command>/);
    const bad = await coldgate('validate', '--cnofig', 'x');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown option '--cnofig'/);
  });
});

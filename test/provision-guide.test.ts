import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { tempDir } from './helpers/tmp.ts';
import { BoxPeers } from './provision-peers.ts';

/**
 * Drives a program on a real pseudo-terminal (util-linux `script` makes it; no native module):
 * waits for each question as a person would, then types the answer.
 */
class Terminal {
  private proc: ChildProcess;
  output = '';
  private seen = 0;
  readonly exited: Promise<number | null>;

  constructor(command: string, env: NodeJS.ProcessEnv) {
    this.proc = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => this.proc.once('exit', resolve));
  }

  /** Waits for `pattern` in the output after what was already matched; returns the text up to it. */
  async expect(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rest = this.output.slice(this.seen);
      const m = pattern.exec(rest);
      if (m) {
        this.seen += m.index + m[0].length;
        return rest.slice(0, m.index + m[0].length);
      }
      if (Date.now() > deadline) throw new Error(`no ${pattern} in:\n${rest}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  type(line: string): void {
    this.proc.stdin!.write(`${line}\r`);
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

describe('coldgate provision: the interactive guide on a pseudo-terminal', () => {
  const tmp = tempDir();
  const peers = new BoxPeers(tmp.dir);
  const file = path.join(tmp.dir, 'config.json');
  let term: Terminal | undefined;

  beforeAll(() => peers.start());
  afterAll(async () => {
    term?.kill();
    await peers.stop();
    tmp.cleanup();
  });

  it('asks with defaults, re-asks a bad answer, scans the bus, writes the config and shows the check', async () => {
    const cli = path.resolve('scripts/coldgate.mjs');
    term = new Terminal(`${process.execPath} ${cli} provision --config ${file} --data-dir ${path.join(tmp.dir, 'data')}`, { ...process.env, NO_COLOR: '1' });
    await term.expect(/Gateway id \(unique in the fleet, part of every MQTT topic\) \[[^\]]+\]: $/);
    term.type('van 9');
    await term.expect(/expected an id \(1-64 letters, digits, "_", "\." or "-"\)/);
    await term.expect(/Gateway id .*: $/);
    term.type('van-9');
    await term.expect(/Broker URL: $/);
    term.type(peers.mosquitto.url);
    await term.expect(/Broker login: 1\) username and password {2}2\) client certificate {2}3\) none \[1\]: $/);
    term.type('3');
    const ports = await term.expect(/Probe buses: .* \[[^\]]+\]: $/);
    expect(ports).toMatch(/Serial ports on this box:|No serial ports found/);
    term.type(peers.bus.a);
    await term.expect(/baud rate of .*rs485-a \[9600\]: $/);
    term.type('');
    await term.expect(/parity \(none, even, odd\) \[none\]: $/);
    term.type('');
    await term.expect(/unit ids to scan \[1-32\]: $/);
    term.type('1-5');
    const scan = await term.expect(/Compartments as ID=PRESET, comma separated \(presets: chilled, frozen, .*\) \[front=chilled,rear=frozen\]: $/);
    expect(scan).toMatch(/unit 1: reads 4\.1 °C\r?\n {2}unit 2: reads 4\.5 °C\r?\n {2}unit 3: reads -18\.5 °C\r?\n {2}unit 4: answers/);
    term.type('');
    // The defaults split the units evenly; the installer moves unit 2 to the rear.
    await term.expect(/bus1 unit 1 \(reads 4\.1 °C\): compartment \(front, rear, none\) \[front\]: $/);
    term.type('');
    await term.expect(/bus1 unit 2 .* \[front\]: $/);
    term.type('rear');
    await term.expect(/bus1 unit 3 .* \[rear\]: $/);
    term.type('cellar');
    await term.expect(/answer one of front, rear, none/);
    await term.expect(/bus1 unit 3 .* \[rear\]: $/);
    term.type('');
    await term.expect(/bus1 unit 4 \(answers\): .* \[rear\]: $/);
    term.type('');
    await term.expect(/GPS receiver port: .* \[[^\]]+\]: $/);
    term.type(peers.gps.a);
    await term.expect(/GPS baud rate \[9600\]: $/);
    term.type('');
    await term.expect(/Display PIN .* \[\d{4}\]: $/);
    term.type('86420');
    await term.expect(/Write .*config\.json\? \[y\]: $/);
    term.type('');
    const result = await term.expect(/devices (OK|FAIL)/, 20_000);
    expect(result).toMatch(/wrote .*config\.json: gateway van-9, 4 probes on 1 buses, 2 compartments/);
    expect(result).toMatch(/all 7 devices OK/);
    expect(await term.exited).toBe(0);

    const { config } = loadConfig(file, {});
    expect(config.probes.map((p) => `${p.id}@${p.unit}`)).toEqual(['front-1@1', 'rear-1@2', 'rear-2@3', 'rear-3@4']);
    expect(config.local.pin).toBe('86420');
    expect(config.uplink).toMatchObject({ url: peers.mosquitto.url });
    expect(config.uplink.username).toBeUndefined();
  });
});

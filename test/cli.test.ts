import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { silentLogger } from '../src/core/log.ts';
import { Journal } from '../src/journal/journal.ts';
import { COMMANDS, main } from '../src/cli/main.ts';
import { journalStatsCommand } from '../src/cli/journal-stats.ts';
import { provisionCommand } from '../src/cli/provision.ts';
import { runCli } from './helpers/cli.ts';
import { GatewayChild } from './helpers/gateway-child.ts';
import { freePort } from './helpers/net.ts';
import { tempDir } from './helpers/tmp.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const tmp = tempDir('coldgate-cli-');
afterAll(() => tmp.cleanup());

// From the dispatcher itself: a command added there is asked for its help here too.
const NAMES = Object.keys(COMMANDS);

describe('coldgate <command> --help', () => {
  it('knows the commands the contract names', () => {
    expect(NAMES).toEqual(expect.arrayContaining(['run', 'validate', 'check', 'provision', 'scan', 'gps decode', 'journal stats']));
  });

  it.each(NAMES.flatMap((name) => [[name, '--help'], [name, '-h']]))('%s %s prints its usage on stdout, exit 0', async (name, flag) => {
    const r = await runCli(main, [...name.split(' '), flag]);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toMatch(new RegExp(`^usage: coldgate ${name} `));
    expect(r.out).toContain('exit codes: 0 ok');
  });

  it('answers help before reading anything else on the line (provision would start asking)', async () => {
    const r = await runCli(main, ['provision', '--answers', '/nonexistent.json', '--help']);
    expect([r.code, r.err]).toEqual([0, '']);
    const bad = await runCli(main, ['check', '--cnofig', 'x']);
    expect([bad.code, bad.out]).toEqual([2, '']);
    expect(bad.err).toMatch(/^coldgate check: Unknown option '--cnofig'[\s\S]*usage: coldgate check --config FILE/);
  });

  it('does so from the binary, exit status 0', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/coldgate.ts', 'provision', '--help'], { cwd: ROOT });
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^usage: coldgate provision \[--config FILE\]/);
  });
});

describe('coldgate journal stats', () => {
  it('reads an existing journal', async () => {
    const dir = path.join(tmp.dir, 'closed');
    const journal = await Journal.open(dir, JournalConfig.parse({ commitIntervalMs: 5 }), silentLogger);
    await journal.append({ kind: 'event', ts: new Date().toISOString(), tq: 'system', type: 'test', severity: 'info', message: 'x' });
    await journal.close();
    const r = await runCli(journalStatsCommand, ['--data', dir, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ nextSeq: 2, lanes: { events: { records: 1 } } });
  });

  it('does not create a journal where there is none: a mistyped --data is bad usage, exit 2', async () => {
    const typo = path.join(tmp.dir, 'dta');
    const r = await runCli(journalStatsCommand, ['--data', typo]);
    expect([r.code, r.out, r.err]).toEqual([2, '', `journal stats: no journal in ${typo}: check --data (the gateway's dataDir is in its config)\n`]);
    expect(existsSync(typo)).toBe(false);
    // A folder that exists but holds no journal is not turned into one either.
    const r2 = await runCli(journalStatsCommand, ['--data', tmp.dir]);
    expect(r2.code).toBe(2);
    expect(existsSync(path.join(tmp.dir, 'CURRENT'))).toBe(false);
  });

  it('says in one line, without a stack, that a running gateway holds the journal: exit 1', async () => {
    const dataDir = path.join(tmp.dir, 'running');
    const child = new GatewayChild({ dataDir, url: `mqtt://127.0.0.1:${await freePort()}`, gatewayId: 'van-lock', readingsPerSec: 0 });
    try {
      await child.waitReady();
      const r = await runCli(journalStatsCommand, ['--data', dataDir]);
      expect([r.code, r.out]).toEqual([1, '']);
      expect(r.err).toBe(`journal stats: the journal in ${dataDir} is in use by a running coldgate: read its figures on the display's /metrics (coldgate_journal_*), or stop it first\n`);
    } finally {
      await child.kill('SIGTERM');
    }
    // Once it has stopped, the same command reads it.
    expect((await runCli(journalStatsCommand, ['--data', dataDir])).code).toBe(0);
  });
});

describe('config files saved with a byte order mark', () => {
  it('provision reads such an answers file (and quotes no secret when it is wrong)', async () => {
    const answers = path.join(tmp.dir, 'answers.json');
    writeFileSync(answers, `\ufeff${JSON.stringify({ gatewayId: 'van 1', broker: { url: 'mqtt://127.0.0.1:1883' }, pin: '12a4' })}`);
    const r = await runCli(provisionCommand, ['--answers', answers, '--config', path.join(tmp.dir, 'out.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^provision: .*answers\.json: gatewayId: expected an id/m);
    expect(r.err).toContain(': pin: expected a PIN of 4 to 8 digits, received (redacted)');
    expect(r.err).not.toMatch(/not valid JSON|12a4/);
  });
});

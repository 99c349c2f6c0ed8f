import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FIRST_LOCK_MS, FREE_ATTEMPTS, GLOBAL_BURST, GLOBAL_REFILL_MS } from '../src/local/pin.ts';
import { waitFor } from './helpers/net.ts';
import { capturingLogger, PIN, postFrom, startTestDisplay, type Answer, type TestDisplay } from './helpers/display-server.ts';

// Abuse of the display from its network: many source addresses, DNS rebinding, broken URLs, dropped uploads.

let display: TestDisplay | undefined;
afterEach(async () => {
  await display?.close();
  display = undefined;
});

/** The n-th guesser's address (n < 65 536) in 127.1/16, apart from the driver's 127.0.0.1. */
const address = (n: number) => `127.1.${n >> 8}.${n & 255}`;

/** Sends `count` requests, `width` at a time; answers in order. */
async function inBatches(count: number, width: number, send: (i: number) => Promise<Answer>): Promise<Answer[]> {
  const out: Answer[] = [];
  for (let i = 0; i < count; i += width) out.push(...(await Promise.all(Array.from({ length: Math.min(width, count - i) }, (_, j) => send(i + j)))));
  return out;
}

const metric = async (base: string, name: string) => Number((await (await fetch(new URL('metrics', base))).text()).match(new RegExp(`^${name} (\\d+)$`, 'm'))![1]);

describe('display PIN limits across source addresses', () => {
  it('looks at no more wrong PINs than the box budget in an hour, however many addresses guess', async () => {
    let now = Date.now();
    display = await startTestDisplay({ now: () => now });
    const { base } = display;
    const answers: Answer[] = [];
    // An hour of guessing: every minute 10 fresh addresses each send two wrong PINs.
    for (let minute = 0; minute < 60; minute++) {
      answers.push(...(await inBatches(20, 20, (i) => postFrom(base, 'api/trip/start', { pin: String(1000 + i) }, { from: address(minute * 10 + (i % 10) + 1) }))));
      now += 60_000;
    }
    const looked = await metric(base, 'coldgate_display_pin_failures_total');
    // Each minute's token is used: a burst of 10, then one a minute (the last minute's refill comes after the hour).
    expect(looked).toBe(GLOBAL_BURST + 59);
    expect(answers.filter((a) => a.status === 401)).toHaveLength(looked);
    expect(answers.filter((a) => a.status === 429 && a.body.details?.scope === 'box')).toHaveLength(answers.length - looked);
    expect(display.engine.snapshot().trip).toBeUndefined();

    // Spent: even the right PIN from an address that never guessed waits for the next token, and is told so.
    const spent = await postFrom(base, 'api/trip/start', { pin: '0000' }, { from: '127.9.9.9' });
    const refused = await postFrom(base, 'api/trip/start', { pin: PIN }, { from: '127.9.9.8' });
    expect([spent.status, refused.status]).toEqual([401, 429]);
    expect(refused.body.error).toMatch(/no PIN is taken from any display for \d+ s/);
    const wait = Number(refused.headers['retry-after']);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(GLOBAL_REFILL_MS / 1000);
    now += wait * 1000;
    expect((await postFrom(base, 'api/trip/start', { pin: PIN }, { from: '127.9.9.8' })).status).toBe(201);
  });

  it('keeps a locked client locked while 2,000 other addresses guess', async () => {
    let now = Date.now();
    display = await startTestDisplay({ now: () => now });
    const { base } = display;
    const driver = '127.0.0.1';
    const own: number[] = [];
    for (let i = 0; i < FREE_ATTEMPTS; i++) own.push((await postFrom(base, 'api/trip/start', { pin: '0000' }, { from: driver })).status);
    expect(own).toEqual([...Array(FREE_ATTEMPTS - 1).fill(401), 429]);
    const others = await inBatches(2000, 50, (i) => postFrom(base, 'api/trip/start', { pin: '0000' }, { from: address(i + 1) }));
    now += FIRST_LOCK_MS / 2;
    const still = await postFrom(base, 'api/trip/start', { pin: PIN }, { from: driver });
    expect(still.status).toBe(429);
    expect(still.body.details).toMatchObject({ scope: 'client' });
    expect(Number(still.headers['retry-after'])).toBe(FIRST_LOCK_MS / 2000);
    // The others were refused by the box budget once it was spent, not remembered one by one.
    expect(new Set(others.map((a) => a.status))).toEqual(new Set([401, 429]));
    // Once the lock and the box budget allow, the right PIN is taken again.
    now += GLOBAL_REFILL_MS;
    expect((await postFrom(base, 'api/trip/start', { pin: PIN }, { from: driver })).status).toBe(201);
  });
});

describe('display state changes from foreign pages', () => {
  it('refuses a foreign Host (DNS rebinding) and a cross-site Origin, and takes the display own', async () => {
    display = await startTestDisplay({ local: { http: { host: '127.0.0.1', port: 0, allowedHosts: ['van-12.local'] } } });
    const { base, engine } = display;
    const { host } = new URL(base);
    const start = (headers: Record<string, string>) => postFrom(base, 'api/trip/start', { pin: PIN }, { headers });

    const rebound = await start({ host: `evil.example:${new URL(base).port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body.error).toMatch(/"evil\.example:\d+", which is not this box.*local\.http\.allowedHosts/);
    const crossSite = await start({ host, origin: 'http://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.error).toMatch(/a page from http:\/\/evil\.example may not change anything/);
    expect((await start({ host, origin: 'null' })).status).toBe(403);
    expect(engine.snapshot().trip).toBeUndefined();

    // The display's own address, localhost, an IP literal and a configured name all work.
    const ok = [await start({ host, origin: `http://${host}` }), await start({ host: 'localhost' }), await start({ host: '[::1]:8080' }), await start({ host: 'VAN-12.local.' })];
    expect(ok.map((a) => a.status)).toEqual([201, 200, 200, 200]);
  });
});

describe('display answers to broken requests', () => {
  /** One request as raw bytes; the status line of the answer. */
  function raw(base: string, text: string, dropAfterWrite = false): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = net.connect(Number(new URL(base).port), '127.0.0.1', () => {
        s.write(text);
        if (dropAfterWrite) setTimeout(() => s.destroy(), 50);
      });
      let out = '';
      s.on('data', (d) => (out += d.toString()));
      s.on('close', () => resolve(out.split('\r\n')[0]!));
      s.on('error', reject);
    });
  }

  it('answers bad %-encoding and a bad absolute URL with 400 and logs no error', async () => {
    const { log, lines } = capturingLogger();
    display = await startTestDisplay({ log });
    const { base } = display;
    const targets = ['GET /%zz', 'GET http://[bad', 'GET /api/state%E2%82', 'POST /api/alarms/%zz/ack'];
    const answers = [];
    for (const t of targets) answers.push(await raw(base, `${t} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}`));
    expect(answers).toEqual(targets.map(() => 'HTTP/1.1 400 Bad Request'));
    const body = await fetch(new URL('%zz', base));
    expect((await body.json()).error).toMatch(/bad %-encoding in the path/);
    expect(lines.filter((l) => l.level >= 40 || l.err)).toEqual([]);
    expect((await fetch(new URL('api/state', base))).status).toBe(200);
  });

  it('takes a client that drops its upload half way as nothing worse than debug', async () => {
    const { log, lines } = capturingLogger();
    display = await startTestDisplay({ log });
    await raw(display.base, 'POST /api/trip/start HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"pin":', true);
    const gone = await waitFor(() => lines.find((l) => l.msg === 'display: client went away mid-request'), 5_000, 'the debug line for the dropped upload');
    expect(gone.level).toBe(20);
    expect(lines.filter((l) => l.level >= 40 || l.err)).toEqual([]);
    expect(display.engine.snapshot().trip).toBeUndefined();
  });
});

import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger } from '../core/log.ts';
import { Journal, JournalError } from '../journal/journal.ts';
import { JournalConfig } from '../config/schema-journal.ts';
import { readEndToEndState } from '../uplink/end-to-end.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CommandIo } from './io.ts';

/**
 * `coldgate journal stats --data DIR [--json]`: what is buffered, acknowledged and dropped.
 * It only reads: a mistyped DIR must not become an empty journal that reports "0 pending".
 */
export async function journalStatsCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { data: { type: 'string' }, json: { type: 'boolean' } }, strict: true });
  const dir = values.data ?? process.env.COLDGATE_DATA_DIR;
  if (!dir) {
    io.stderr.write('journal stats: pass --data DIR (the gateway\'s dataDir)\n');
    return EXIT_USAGE;
  }
  // Every LevelDB database has a CURRENT file; without it Journal.open would create one.
  if (!existsSync(path.join(dir, 'CURRENT'))) {
    io.stderr.write(`journal stats: no journal in ${dir}: check --data (the gateway's dataDir is in its config)\n`);
    return EXIT_USAGE;
  }
  let journal: Journal;
  try {
    journal = await Journal.open(dir, JournalConfig.parse({}), silentLogger);
  } catch (err) {
    if (!(err instanceof JournalError)) throw err;
    // LevelDB lets one process at a time open it; the running gateway shows the same figures.
    const inUse = err.message.includes('another coldgate running');
    io.stderr.write(inUse
      ? `journal stats: the journal in ${dir} is in use by a running coldgate: read its figures on the display's /metrics (coldgate_journal_*), or stop it first\n`
      : `journal stats: ${err.message}\n`);
    return EXIT_FAILURE;
  }
  const stats = journal.stats();
  const endToEnd = await readEndToEndState(journal);
  await journal.close();
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ ...stats, ...(endToEnd && { committedThrough: endToEnd.committedThrough }) })}\n`);
    return EXIT_OK;
  }
  // The incarnation is what the cloud's records name this journal by (with gatewayId and seq).
  io.stdout.write(`incarnation ${stats.incarnation}, next seq ${stats.nextSeq}, ${stats.usedBytes} bytes stored\n`);
  // Once a receiver answered, records stay until it committed them (src/uplink/end-to-end.ts).
  io.stdout.write(endToEnd ? `end-to-end: the receiver has committed through seq ${endToEnd.committedThrough}; pending records wait for it\n` : 'end-to-end: no receiver has answered; records go on PUBACK\n');
  for (const [lane, s] of Object.entries(stats.lanes)) io.stdout.write(`${lane.padEnd(10)} pending ${s.records} records, ${s.bytes} bytes, acked through seq ${s.ackedThrough}, dropped ${s.dropped}\n`);
  return EXIT_OK;
}

import { parseArgs } from 'node:util';
import { silentLogger } from '../core/log.ts';
import { Journal } from '../journal/journal.ts';
import { JournalConfig } from '../config/schema-journal.ts';
import { EXIT_OK, EXIT_USAGE, type CommandIo } from './io.ts';

/** `coldgate journal stats --data DIR [--json]`: what is buffered, acknowledged and dropped. */
export async function journalStatsCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { data: { type: 'string' }, json: { type: 'boolean' } }, strict: true });
  const dir = values.data ?? process.env.COLDGATE_DATA_DIR;
  if (!dir) {
    io.stderr.write('journal stats: pass --data DIR (the gateway\'s dataDir)\n');
    return EXIT_USAGE;
  }
  const journal = await Journal.open(dir, JournalConfig.parse({}), silentLogger);
  const stats = journal.stats();
  await journal.close();
  if (values.json) {
    io.stdout.write(`${JSON.stringify(stats)}\n`);
    return EXIT_OK;
  }
  // The incarnation is what the cloud's records name this journal by (with gatewayId and seq).
  io.stdout.write(`incarnation ${stats.incarnation}, next seq ${stats.nextSeq}, ${stats.usedBytes} bytes stored\n`);
  for (const [lane, s] of Object.entries(stats.lanes)) io.stdout.write(`${lane.padEnd(10)} pending ${s.records} records, ${s.bytes} bytes, acked through seq ${s.ackedThrough}, dropped ${s.dropped}\n`);
  return EXIT_OK;
}

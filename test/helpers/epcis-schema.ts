import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';

const FIXTURES = new URL('../fixtures/epcis/', import.meta.url).pathname;
export const epcisFixture = (name: string) => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>;

// ajv-formats is CommonJS: under ESM its plugin is the default export's default.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (a: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ allErrors: true, strict: false }));
/** GS1's own draft-07 schema of EPCIS 2.0 documents, with its formats (uri, date-time) checked. */
const validate = ajv.compile(epcisFixture('EPCIS-JSON-Schema.json'));

/** What GS1's schema says is wrong with `doc` (empty: it validates). */
export const epcisProblems = (doc: unknown): string[] => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));

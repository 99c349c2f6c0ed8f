import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../core/paths.ts';

/**
 * The display's files, read once at start: the page ships with the box and nothing comes from
 * a CDN, so the cab screen works with no internet at all.
 */
const FILES = {
  '/': ['page.html', 'text/html; charset=utf-8'],
  '/page.css': ['page.css', 'text/css; charset=utf-8'],
  '/page.js': ['page.js', 'text/javascript; charset=utf-8'],
} as const;

export interface Asset {
  body: Buffer;
  type: string;
}

export function loadAssets(): Map<string, Asset> {
  return new Map(Object.entries(FILES).map(([route, [file, type]]) => [route, { body: readFileSync(path.join(ROOT, 'src/local', file)), type }]));
}

/** Only the box's own files and its own event stream: an injected script could not phone home. */
export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/** The trip report is a printable page with its own inline styles and no scripts. */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The installed tree (where package.json is), found from this file upwards, so that the same
 * code finds its page, schema and version whether it runs from src/ under tsx or bundled in dist/.
 */
function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`coldgate: no package.json above ${from}: reinstall coldgate`);
  }
}

export const ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

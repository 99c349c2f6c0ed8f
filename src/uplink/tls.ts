import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import type { UplinkConfig } from '../config/schema-uplink.ts';

/** The certificate files named in uplink.tls, read now so that a wrong path is reported by field and file. */
export function readTls(tls: UplinkConfig['tls']): Pick<IClientOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'> {
  if (!tls) return {};
  const read = (file: string | undefined, field: string) => {
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`uplink.tls.${field}: cannot read ${file} (${(err as NodeJS.ErrnoException).code}): check the path and that the service user may read it`);
    }
  };
  return { ca: read(tls.ca, 'ca'), cert: read(tls.cert, 'cert'), key: read(tls.key, 'key'), rejectUnauthorized: tls.rejectUnauthorized };
}

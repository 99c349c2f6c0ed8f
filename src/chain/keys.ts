import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The box's Ed25519 key (it signs chain heads: sign.ts). `{dataDir}/keys/` (mode 0700) holds
 * `box.key` (PKCS#8 PEM, mode 0600: only the service user reads it) and `box.pub` (SPKI PEM).
 * The fingerprint is the first 16 bytes of SHA-256 over the raw 32-byte public key, in hex:
 * `coldgate keys show` prints it for registration in the cloud; the birth `status` carries it.
 */
export interface BoxKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  fingerprint: string;
}

export const keysDir = (dataDir: string) => path.join(dataDir, 'keys');
const PRIVATE = 'box.key';
const PUBLIC = 'box.pub';

export function rawPublicKey(key: KeyObject): Buffer {
  const { x } = key.export({ format: 'jwk' });
  return Buffer.from(x!, 'base64url');
}

export function fingerprintOf(key: KeyObject): string {
  return createHash('sha256').update(rawPublicKey(key)).digest('hex').slice(0, 32);
}

/** The key in `dir`, made first if there is none (at the first start, or `coldgate keys init`). */
export function ensureBoxKey(dir: string): { key: BoxKey; created: boolean } {
  if (existsSync(path.join(dir, PRIVATE))) return { key: readBoxKey(dir), created: false };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is filtered by the umask, and an existing folder keeps its own.
  chmodSync(dir, 0o700);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const tmp = path.join(dir, `.${PRIVATE}.tmp`);
  writeFileSync(tmp, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  writeFileSync(path.join(dir, PUBLIC), publicKey.export({ format: 'pem', type: 'spki' }), { mode: 0o644 });
  // The private key appears whole or not at all: a crash here leaves a temporary file only.
  renameSync(tmp, path.join(dir, PRIVATE));
  return { key: { privateKey, publicKey, fingerprint: fingerprintOf(publicKey) }, created: true };
}

export function readBoxKey(dir: string): BoxKey {
  const file = path.join(dir, PRIVATE);
  let privateKey: KeyObject;
  try {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) throw new Error(`${file} is readable by others (mode ${mode.toString(8)}): chmod 600 it, and consider the key exposed`);
    privateKey = createPrivateKey(readFileSync(file));
  } catch (err) {
    throw new Error(`box key ${file}: ${(err as Error).message}`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`box key ${file}: not an Ed25519 key (${privateKey.asymmetricKeyType}): remove it and run coldgate keys init`);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, fingerprint: fingerprintOf(publicKey) };
}

/** The public key alone (`coldgate keys show` needs nothing secret). */
export function readPublicKey(dir: string): KeyObject {
  return createPublicKey(readFileSync(path.join(dir, PUBLIC)));
}

/**
 * A public key as `verify --key` takes it: a PEM file, PEM text, or the raw 32 bytes in base64
 * (what `keys show` prints as `raw`).
 */
export function parsePublicKey(arg: string): KeyObject {
  const text = !arg.includes('-----BEGIN') && existsSync(arg) ? readFileSync(arg, 'utf8') : arg;
  if (text.includes('-----BEGIN')) return createPublicKey(text);
  const raw = Buffer.from(text.trim(), 'base64');
  if (raw.length !== 32) throw new Error(`--key ${arg}: neither a PEM file nor a raw Ed25519 public key in base64 (32 bytes; this is ${raw.length})`);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

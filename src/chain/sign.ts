import { sign, verify, type KeyObject } from 'node:crypto';
import type { Lane } from '../core/types.ts';
import type { BoxKey } from './keys.ts';

/**
 * A batch's signature: Ed25519 over the UTF-8 text
 *   coldgate.sig/1 {gatewayId} {incarnation} {lane} {lastSeq} {head}
 * where head is the lane's chain hash after record lastSeq (hash.ts). One signature vouches for
 * every record chained before it.
 */
export interface BatchSignature {
  /** The signing key's fingerprint (keys.ts). */
  key: string;
  /** The signature, base64 (64 bytes). */
  value: string;
}

export interface SignedHead {
  gatewayId: string;
  incarnation: string;
  lane: Lane;
  lastSeq: number;
  head: string;
}

export function signedText(h: SignedHead): string {
  return `coldgate.sig/1 ${h.gatewayId} ${h.incarnation} ${h.lane} ${h.lastSeq} ${h.head}`;
}

export function signHead(key: BoxKey, h: SignedHead): BatchSignature {
  return { key: key.fingerprint, value: sign(null, Buffer.from(signedText(h)), key.privateKey).toString('base64') };
}

export function headSignatureValid(publicKey: KeyObject, h: SignedHead, sig: BatchSignature): boolean {
  return verify(null, Buffer.from(signedText(h)), publicKey, Buffer.from(sig.value, 'base64'));
}

/** What a batch carries for its signature to be checked (a coldgate.batch/4 header). */
export interface SignedBatch {
  gatewayId: string;
  incarnation: string;
  lane: Lane;
  toSeq: number;
  head?: string;
  sig?: BatchSignature;
}

/**
 * Whether a batch's signature vouches for its head under `publicKey` (fingerprint: keys.ts
 * fingerprintOf): `other-key` when signed by another key, `invalid` when the signature is not
 * over this head, undefined when it holds or the batch carries none. Used by `coldgate verify`
 * and the receiver.
 */
export function signatureProblem(publicKey: KeyObject, fingerprint: string, b: SignedBatch): 'other-key' | 'invalid' | undefined {
  if (!b.sig) return undefined;
  if (b.sig.key !== fingerprint) return 'other-key';
  const valid = b.head !== undefined && headSignatureValid(publicKey, { gatewayId: b.gatewayId, incarnation: b.incarnation, lane: b.lane, lastSeq: b.toSeq, head: b.head }, b.sig);
  return valid ? undefined : 'invalid';
}

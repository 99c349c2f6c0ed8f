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

import { hash, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical.ts';
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
  return signText(key, signedText(h));
}

export function headSignatureValid(publicKey: KeyObject, h: SignedHead, sig: BatchSignature): boolean {
  return textSignatureValid(publicKey, signedText(h), sig);
}

/**
 * An archived trip's header (report, probes, episodes, time quality, counts: all but its
 * `chain`) is signed at archive time over the UTF-8 text
 *   coldgate.trip-sig/1 {gatewayId} {tripId} {sha256 hex of the header's RFC 8785 JSON}
 * so a report shown to an auditor is the one the box made.
 */
export interface SignedTripHeader {
  sha256: string;
  sig: BatchSignature;
}

export function tripHeaderDigest(header: object): string {
  return hash('sha256', canonicalJson({ ...header, chain: undefined }), 'hex');
}

const tripHeaderText = (gatewayId: string, tripId: string, digest: string) => `coldgate.trip-sig/1 ${gatewayId} ${tripId} ${digest}`;

export function signTripHeader(key: BoxKey, header: { gatewayId: string; tripId: string }): SignedTripHeader {
  const sha256 = tripHeaderDigest(header);
  return { sha256, sig: signText(key, tripHeaderText(header.gatewayId, header.tripId, sha256)) };
}

/** Why the header is not the one the box signed, or undefined if it is. */
export function tripHeaderProblem(publicKey: KeyObject, header: { gatewayId: string; tripId: string }, signed: SignedTripHeader): string | undefined {
  const sha256 = tripHeaderDigest(header);
  if (sha256 !== signed.sha256) return `the trip's header (report, probes, episodes, counts) hashes to ${sha256.slice(0, 16)}..., not the ${signed.sha256.slice(0, 16)}... the box signed: it was changed after the trip was archived`;
  if (!textSignatureValid(publicKey, tripHeaderText(header.gatewayId, header.tripId, sha256), signed.sig)) return "wrong signature over the trip's header";
  return undefined;
}

function signText(key: BoxKey, text: string): BatchSignature {
  return { key: key.fingerprint, value: sign(null, Buffer.from(text), key.privateKey).toString('base64') };
}

function textSignatureValid(publicKey: KeyObject, text: string, sig: BatchSignature): boolean {
  return verify(null, Buffer.from(text), publicKey, Buffer.from(sig.value, 'base64'));
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

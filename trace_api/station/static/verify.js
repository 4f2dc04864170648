// Offline check of a scanned code against the issuers' key set (format lotline-issuers/v1, served by
// GET /api/v1/issuers): the code's EIP-2098 signature over its Digital Link path must recover to a known issuer
// whose key is not revoked. The same rules as scanner/verify.py and ledger/code_signing.py.
import { keccak_256, secp256k1 } from "./vendor/noble.js";
import { NotACode, readScan } from "./codes.js";

export const KEY_SET_FORMAT = "lotline-issuers/v1";
const DOMAIN_PREFIX = "lotline-code/v1:";
const ORDER = secp256k1.Point.CURVE().n;
const HALF_ORDER = ORDER >> 1n;
const Y_PARITY = 1n << 255n;
const BASE64URL = /^[A-Za-z0-9_-]{86}$/;

export class KeySet {
  constructor(document) {
    if (!document || document.format !== KEY_SET_FORMAT || !Array.isArray(document.issuers)) {
      throw new Error(`not a ${KEY_SET_FORMAT} key set`);
    }
    this.document = document;
    this.issuers = new Map(document.issuers.map((entry) => [entry.address.toLowerCase(), entry.name]));
    this.revoked = new Set((document.revoked || []).map((address) => address.toLowerCase()));
  }
}

function bytesOfBase64url(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "==");
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function base64urlOf(bytes) {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

function bigintOf(bytes) {
  return BigInt("0x" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""));
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The signature text as [r, s, recovery]; null when it is not the one canonical EIP-2098 base64url form. */
export function decodeSignature(text) {
  if (!BASE64URL.test(text)) return null;
  const raw = bytesOfBase64url(text);
  if (base64urlOf(raw) !== text) return null;
  const r = bigintOf(raw.slice(0, 32));
  const vs = bigintOf(raw.slice(32));
  const s = vs & ~Y_PARITY;
  if (!(r > 0n && r < ORDER && s > 0n && s <= HALF_ORDER)) return null;
  return [r, s, Number(vs >> 255n)];
}

function recoverAddress(path, [r, s, recovery]) {
  const digest = keccak_256(new TextEncoder().encode(DOMAIN_PREFIX + path));
  try {
    const point = new secp256k1.Signature(r, s).addRecoveryBit(recovery).recoverPublicKey(digest);
    return "0x" + hex(keccak_256(point.toBytes(false).slice(1)).slice(-20));
  } catch {
    return null;
  }
}

function verdict(reason, code = null, extra = {}) {
  return { reason, genuine: reason === "genuine", code, ...extra };
}

/** The offline verdict on one scan: {reason, genuine, code, signer?, issuer?}. Reasons as scanner/verify.py. */
export function check(keySet, text) {
  let code;
  try {
    code = readScan(text);
  } catch (error) {
    if (!(error instanceof NotACode)) throw error;
    const twoSignatures = /more than one signature/.test(error.message);
    return verdict(twoSignatures ? "malformed_signature" : "not_a_code", null, { detail: error.message });
  }
  if (code.signature === null) return verdict("missing_signature", code);
  const signature = decodeSignature(code.signature);
  if (signature === null) return verdict("malformed_signature", code);
  if (code.kind === "product" || (code.kind === "item" && code.lot === null)) return verdict("not_a_code", code);
  const signer = recoverAddress(code.path, signature);
  if (signer === null) return verdict("bad_signature", code);
  if (keySet.revoked.has(signer))
    return verdict("revoked_issuer", code, { signer, issuer: keySet.issuers.get(signer) });
  if (!keySet.issuers.has(signer)) return verdict("unknown_issuer", code, { signer });
  return verdict("genuine", code, { signer, issuer: keySet.issuers.get(signer) });
}

/**
 * Secrets known by value: the container knows every secret it hands an agent (the run's token, the
 * container's own, an agent's API keys), and the rig room knows the town's secret. A known secret is
 * hidden wherever any 8 or more consecutive characters of it appear in a line, in any of these
 * forms: as it is; as base64 or base64url, at any byte alignment (so also inside the base64 of a
 * longer text); as hex of either case (16 or more hex digits: 8 characters' worth).
 *
 * Fragments, not only the whole value, because a secret reaches the room split: across two lines
 * (a line ends with a prefix of it, the next starts with the rest), across the container's reads,
 * or wrapped (`base64` breaks its output every 76 characters). A fragment of fewer than 8
 * characters is not caught: shorter runs would hide ordinary words and hashes, while 8 hid nothing
 * in 36 million characters of code, diffs and docs with two real tokens known (docs/security.md;
 * by chance, one of a token's windows matches random base64 about once in 10^11 characters). A
 * secret shorter than 8 characters is not known at all, for the same reason.
 *
 * Lines are matched folded (folded-text.ts: full-width forms, invisible characters, whitespace and
 * one-character escapes undone), so the forms above are caught however they are dressed. The cost
 * is linear: one set lookup of a short window per character and form family.
 */
import { fold } from "./folded-text.ts";

/** The shortest secret, and fragment of one, that is hidden. */
export const FRAGMENT_CHARS = 8;
/** Hex spends two digits on a character: a fragment of 8 characters is 16 digits. */
const HEX_DIGITS = 2 * FRAGMENT_CHARS;

const encoder = new TextEncoder();

/** base64url written as base64, so one set of windows serves both alphabets (the same is done to the line). */
const alike = (text: string): string => text.replace(/-/g, "+").replace(/_/g, "/");
const lowerHex = (text: string): string => text.replace(/[A-F]/g, (c) => c.toLowerCase());

/**
 * The base64 of `bytes` at each of the three byte alignments, each cut to the characters that
 * depend on `bytes` alone: what stands in any base64 text that contains them, wherever they start.
 */
export function base64Cores(bytes: Uint8Array): string[] {
  return [0, 1, 2].map((offset) => {
    let binary = "\0".repeat(offset);
    for (const b of bytes) binary += String.fromCharCode(b);
    const encoded = btoa(`${binary}\0\0`);
    return encoded.slice(Math.ceil((offset * 8) / 6), Math.floor(((offset + bytes.length) * 8) / 6));
  });
}

function hexOf(bytes: Uint8Array): string {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** A polynomial hash of a window, modulo 2^32: the same whether computed whole or rolled along a line. */
const BASE = 0x01000193;

function hashOf(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, BASE) + text.charCodeAt(i)) | 0;
  return hash;
}

/**
 * Windows of one size, found by a rolling hash (one multiply and add per character, no string made)
 * and confirmed by their text, so a line is scanned in linear time whatever it holds.
 */
class Windows {
  private readonly texts = new Set<string>();
  private readonly hashes = new Set<number>();
  /** BASE^(size-1), to take the leaving character out of the hash. */
  private readonly top: number;

  constructor(readonly size: number) {
    let top = 1;
    for (let i = 1; i < size; i++) top = Math.imul(top, BASE);
    this.top = top;
  }

  /** Every window of `form`. */
  add(form: string): void {
    for (let i = 0; i + this.size <= form.length; i++) {
      const text = form.slice(i, i + this.size);
      this.texts.add(text);
      this.hashes.add(hashOf(text));
    }
  }

  /** Where windows of `text` are known, as merged ranges appended to `into`. */
  scan(text: string, into: [number, number][]): void {
    const size = this.size;
    if (text.length < size) return;
    let hash = hashOf(text.slice(0, size));
    let current: [number, number] | null = null;
    for (let i = 0; ; i++) {
      if (this.hashes.has(hash) && this.texts.has(text.slice(i, i + size))) {
        if (current && current[1] >= i) current[1] = i + size;
        else into.push((current = [i, i + size]));
      }
      if (i + size >= text.length) return;
      hash = (Math.imul(hash - Math.imul(text.charCodeAt(i), this.top), BASE) + text.charCodeAt(i + size)) | 0;
    }
  }
}

/** An open set of secret values (a run's: more can be added while it runs), kept as the windows of their forms. */
export class SecretValues {
  private readonly values = new Set<string>();
  private readonly windows = new Windows(FRAGMENT_CHARS);
  private readonly hexWindows = new Windows(HEX_DIGITS);

  constructor(values: Iterable<string> = []) {
    this.add(...values);
  }

  /** Adds secrets; one shorter than FRAGMENT_CHARS, or known already, is passed over. */
  add(...values: string[]): this {
    for (const value of values) {
      if (value.length < FRAGMENT_CHARS || this.values.has(value)) continue;
      this.values.add(value);
      const bytes = encoder.encode(value);
      // The value itself read as lines are (a passphrase's spaces left out), and its base64.
      for (const form of [fold(value, { dropSpaces: true, decode: false }).text, ...base64Cores(bytes)]) this.windows.add(alike(form));
      this.hexWindows.add(hexOf(bytes));
    }
    return this;
  }

  get size(): number {
    return this.values.size;
  }

  /** The ranges of `folded` (a line folded for matching) that are fragments of a known secret, in any form. */
  find(folded: string): [number, number][] {
    const ranges: [number, number][] = [];
    if (!this.values.size) return ranges;
    this.windows.scan(alike(folded), ranges);
    this.hexWindows.scan(lowerHex(folded), ranges);
    return ranges;
  }
}

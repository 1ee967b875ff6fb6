/** A small seeded PRNG (mulberry32): every random choice of the benchmark comes from a seed. */
export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
  /** Text of `n` characters drawn from printable ASCII, JSON punctuation and some non-ASCII. */
  text(n: number): string {
    const alphabet = ' abcdefghijklmnopqrstuvwxyz0123456789{}[]":,.\\/-_ \u00e9\u4e2d\u{1F600}\n\t';
    const chars = [...alphabet];
    let s = "";
    for (let i = 0; i < n; i++) s += this.pick(chars);
    return s;
  }
  words(n: number): string {
    const vocab = [
      "fix",
      "the",
      "merge",
      "queue",
      "rig",
      "bead",
      "agent",
      "refinery",
      "witness",
      "convoy",
      "mail",
      "flaky",
      "test",
      "in",
      "parser",
      "add",
      "retry",
      "to",
      "outbox",
      "docs",
      "for",
      "dashboard",
      "update",
      "schema",
    ];
    return Array.from({ length: n }, () => this.pick(vocab)).join(" ");
  }
}

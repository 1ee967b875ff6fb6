/**
 * An in-memory stand-in for Durable Object storage, narrowed to KeyValueStorage (party/records.ts)
 * plus setAlarm (party/durable-outbox.ts). Like the real thing it stores structured clones, lists
 * keys in sorted order and refuses batches of more than 128 keys. Every call is recorded, and
 * `failPuts` makes the next puts reject.
 */
import type { AlarmStorage } from "../../party/durable-outbox.ts";

export const MAX_BATCH = 128;

export class FakeStorage implements AlarmStorage {
  readonly data = new Map<string, unknown>();
  /** Keys of every put call, in order. */
  readonly putCalls: string[][] = [];
  /** Keys of every delete call, in order. */
  readonly deleteCalls: string[][] = [];
  /** Every alarm set, in order; `alarm` is the current one. */
  readonly alarms: number[] = [];
  alarm: number | null = null;
  /** While > 0, put calls reject (and count down). */
  failPuts = 0;

  constructor(initial: Record<string, unknown> = {}) {
    for (const [key, value] of Object.entries(initial)) this.data.set(key, structuredClone(value));
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    return structuredClone(this.data.get(key)) as T | undefined;
  }

  async list<T = unknown>(options: { prefix?: string } = {}): Promise<Map<string, T>> {
    const prefix = options.prefix ?? "";
    const keys = [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
    return new Map(keys.map((k) => [k, structuredClone(this.data.get(k)) as T]));
  }

  async put(entries: Record<string, unknown>): Promise<void> {
    const keys = Object.keys(entries);
    this.putCalls.push(keys);
    if (keys.length > MAX_BATCH) throw new Error(`put of ${keys.length} keys exceeds ${MAX_BATCH}`);
    if (this.failPuts > 0) {
      this.failPuts -= 1;
      throw new Error("storage unavailable");
    }
    for (const key of keys) this.data.set(key, structuredClone(entries[key]));
  }

  async delete(keys: string[]): Promise<number> {
    this.deleteCalls.push(keys);
    if (keys.length > MAX_BATCH) throw new Error(`delete of ${keys.length} keys exceeds ${MAX_BATCH}`);
    let deleted = 0;
    for (const key of keys) if (this.data.delete(key)) deleted += 1;
    return deleted;
  }

  async deleteAll(): Promise<void> {
    this.data.clear();
  }

  async setAlarm(time: number): Promise<void> {
    this.alarms.push(time);
    this.alarm = time;
  }

  keys(prefix = ""): string[] {
    return [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}

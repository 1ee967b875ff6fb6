/**
 * The durable outbox adapter: entries live in room storage (`outbox:<key>`) and in memory; a flush
 * attempts every due entry and reschedules the room alarm for the next one. A crash loses nothing:
 * the entries are reloaded on start and the alarm survives restarts.
 */
import { afterFailure, dueEntries, nextWake, type Attempt, type OutboxEntry } from "./outbox.ts";
import type { KeyValueStorage } from "./records.ts";

export type AlarmStorage = KeyValueStorage & { setAlarm(time: number): Promise<void> };

export class DurableOutbox {
  private readonly entries = new Map<string, OutboxEntry>();
  private passes: Promise<void> = Promise.resolve();

  constructor(
    private readonly storage: AlarmStorage,
    /** Makes one delivery attempt; a thrown error counts as a failed hop. */
    private readonly attempt: (entry: OutboxEntry) => Promise<Attempt>,
    /** Records the final outcome (delivered or rejected) before the entry is dropped. */
    private readonly settle: (entry: OutboxEntry, outcome: Exclude<Attempt, { kind: "retry" }>) => Promise<void>,
    /** Other work of the room that needs the (single) alarm, e.g. the witness's next check. */
    private readonly otherWake: () => number | null = () => null,
  ) {}

  static storageKey(key: string): string {
    return `outbox:${key}`;
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** How many entries wait whose key starts with `prefix` (a webhook's bound). */
  count(prefix: string): number {
    let n = 0;
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) n++;
    return n;
  }

  /** Drops every entry whose key starts with `prefix` (a removed webhook's deliveries). */
  async dropAll(prefix: string): Promise<void> {
    const keys = [...this.entries.keys()].filter((k) => k.startsWith(prefix));
    if (!keys.length) return;
    for (let i = 0; i < keys.length; i += 128) await this.storage.delete(keys.slice(i, i + 128).map((k) => DurableOutbox.storageKey(k)));
    for (const k of keys) this.entries.delete(k);
  }

  async load(): Promise<void> {
    const stored = await this.storage.list<OutboxEntry>({ prefix: "outbox:" });
    for (const entry of stored.values()) this.entries.set(entry.key, entry);
    await this.scheduleAlarm();
  }

  /** Call after the entry was persisted (usually in the same write as its record). */
  async added(entry: OutboxEntry): Promise<void> {
    this.entries.set(entry.key, entry);
    await this.scheduleAlarm();
  }

  async enqueue(entry: OutboxEntry): Promise<void> {
    await this.storage.put({ [DurableOutbox.storageKey(entry.key)]: entry });
    await this.added(entry);
  }

  /**
   * Attempts every due entry once. Passes never overlap: a call during a pass gets a pass of its
   * own right after it, so an entry added meanwhile is not left for the alarm.
   */
  flush(): Promise<void> {
    const pass = this.passes.then(() => this.flushDue());
    this.passes = pass.catch(() => {});
    return pass;
  }

  private async flushDue(): Promise<void> {
    try {
      for (const entry of dueEntries(this.entries.values(), Date.now())) {
        let outcome: Attempt;
        try {
          outcome = await this.attempt(entry);
        } catch (error) {
          outcome = { kind: "retry", error: error instanceof Error ? error.message : String(error) };
        }
        // A newer entry may have replaced this one under the same key while the attempt ran (a
        // second rig update, a newer convoy notice): then it stays, and is attempted in its turn.
        const replaced = this.entries.get(entry.key) !== entry;
        if (outcome.kind === "retry") {
          if (replaced) continue;
          const next = afterFailure(entry, Date.now(), outcome.error, undefined, outcome.delayMs);
          await this.storage.put({ [DurableOutbox.storageKey(entry.key)]: next });
          this.entries.set(entry.key, next);
        } else {
          await this.settle(entry, outcome);
          if (replaced) continue;
          await this.storage.delete([DurableOutbox.storageKey(entry.key)]);
          this.entries.delete(entry.key);
        }
      }
    } finally {
      await this.scheduleAlarm();
    }
  }

  /** Sets the room's alarm for the earliest outbox entry or other wake-up, whichever comes first. */
  async scheduleAlarm(): Promise<void> {
    const wakes = [nextWake(this.entries.values()), this.otherWake()].filter((w): w is number => w !== null);
    if (wakes.length) await this.storage.setAlarm(Math.max(Math.min(...wakes), Date.now() + 1));
  }
}

/**
 * The durable outbox's decisions, as pure functions. The adapter (party/outbox-store.ts) stores the
 * entries and runs the attempts; here is only when to try again.
 */

export type OutboxEntry = {
  /** Unique per message (the mail id), so a retried enqueue replaces rather than duplicates. */
  key: string;
  kind: "mail" | "wipe" | "bead" | "rig_update" | "convoy" | "revoke" | "feed" | "move" | "usage" | "budget" | "town_budget" | "webhook";
  payload: unknown;
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
  lastError?: string;
};

export const BACKOFF = { baseMs: 250, maxMs: 60_000, jitter: 0.2 } as const;

/**
 * Delay before attempt `attempts + 1`: exponential from 250 ms with ±20 % jitter, never over a
 * minute, so rooms that failed together do not retry together. `random` is injectable for tests.
 */
export function backoffDelay(attempts: number, random: () => number = Math.random): number {
  const exponential = Math.min(BACKOFF.maxMs, BACKOFF.baseMs * 2 ** Math.max(0, attempts - 1));
  const spread = exponential * BACKOFF.jitter * (2 * random() - 1);
  return Math.min(BACKOFF.maxMs, Math.max(0, Math.round(exponential + spread)));
}

/** `delayMs`: the entry's own backoff (a webhook's), instead of the room-to-room one. */
export function afterFailure(entry: OutboxEntry, now: number, error: string, random?: () => number, delayMs?: number): OutboxEntry {
  const attempts = entry.attempts + 1;
  return { ...entry, attempts, lastError: error, nextAttemptAt: now + (delayMs ?? backoffDelay(attempts, random)) };
}

/** How one delivery attempt ended, from the reply of the next hop. */
export type Attempt = { kind: "delivered" } | { kind: "rejected"; error: string } | { kind: "retry"; error: string; delayMs?: number };

/**
 * Reads a room-to-room reply: 2xx delivered; a 4xx is final (the recipient does not exist, or the
 * payload is wrong and would be every time); anything else, and no reply at all, is tried again.
 */
export function classifyReply(status: number, body: unknown): Attempt {
  if (status >= 200 && status < 300) return { kind: "delivered" };
  const message = (body as { error?: { code?: string; message?: string } } | null)?.error;
  const text = message ? `${message.code}: ${message.message}` : `HTTP ${status}`;
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { kind: "rejected", error: text };
  return { kind: "retry", error: text };
}

export function dueEntries(entries: Iterable<OutboxEntry>, now: number): OutboxEntry[] {
  return [...entries].filter((e) => e.nextAttemptAt <= now).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt);
}

/** When the alarm should next fire, or null when nothing waits. */
export function nextWake(entries: Iterable<OutboxEntry>): number | null {
  let earliest: number | null = null;
  for (const e of entries) if (earliest === null || e.nextAttemptAt < earliest) earliest = e.nextAttemptAt;
  return earliest;
}

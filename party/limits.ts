/**
 * Per-principal rate limits as token buckets (pure decisions; the room keeps the buckets in memory).
 * Every token has a bounded cost: what one token may write per minute, whatever it sends. A
 * refusal says when to try again (`RATE_LIMITED`, HTTP 429, `retry_after` in seconds).
 */

/** A bucket holds up to `burst` tokens and gains `perMinute` a minute. */
export type Rule = { burst: number; perMinute: number };

/** What costs what: one mail, one escalation, one bead placed (a convoy costs one per bead), one link. */
export const RATE_RULES = {
  mail: { burst: 30, perMinute: 60 },
  escalation: { burst: 10, perMinute: 10 },
  bead: { burst: 200, perMinute: 120 },
  share: { burst: 10, perMinute: 10 },
  /** Adding webhooks and sending test deliveries (each test is a request to the operator's URL). */
  webhook: { burst: 10, perMinute: 10 },
  /** gt_token_refresh: a long-lived client needs one every few days. */
  refresh: { burst: 5, perMinute: 1 },
  /**
   * Whole documents sent to one share link's (or viewer token's) document sockets, first syncs
   * included: opening sockets again and again must not be a way round the per-socket meter.
   */
  sync: { burst: 200, perMinute: 120 },
  /**
   * Reads of agents' output (gt_agent_log, and opening an output socket, whose first frame is a
   * read): each may copy up to a whole ring (256 KiB), so a link cannot make the room do it unbounded.
   */
  log: { burst: 60, perMinute: 120 },
} as const satisfies Record<string, Rule>;
export type RateKind = keyof typeof RATE_RULES;

export type Bucket = { tokens: number; at: number };

/** Takes `cost` from the bucket, or says after how many ms there would be enough. */
export function take(
  bucket: Bucket | undefined,
  rule: Rule,
  cost: number,
  now: number,
): { ok: true; bucket: Bucket } | { ok: false; bucket: Bucket; retryAfterMs: number } {
  const refill = rule.perMinute / 60_000;
  const start = bucket ? Math.min(rule.burst, bucket.tokens + (now - bucket.at) * refill) : rule.burst;
  const current: Bucket = { tokens: start, at: now };
  if (cost > rule.burst) return { ok: false, bucket: current, retryAfterMs: Infinity };
  if (start >= cost) return { ok: true, bucket: { tokens: start - cost, at: now } };
  return { ok: false, bucket: current, retryAfterMs: Math.ceil((cost - start) / refill) };
}

/** The buckets of one room: per principal (see access.ts principalOf) and kind, forgotten once full again. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly rules: Record<RateKind, Rule> = RATE_RULES) {}

  /** Takes `cost` for `who` (a principal); returns null, or the ms to wait. */
  take(who: string, kind: RateKind, cost: number, now: number): number | null {
    const key = `${kind}:${who}`;
    const rule = this.rules[kind];
    const outcome = take(this.buckets.get(key), rule, cost, now);
    this.buckets.set(key, outcome.bucket);
    if (this.buckets.size > 10_000) this.forgetFull(now);
    return outcome.ok ? null : outcome.retryAfterMs;
  }

  /** Buckets that have refilled carry no state worth keeping. */
  private forgetFull(now: number): void {
    for (const [key, bucket] of this.buckets) {
      const rule = this.rules[key.slice(0, key.indexOf(":")) as RateKind];
      if (bucket.tokens + (now - bucket.at) * (rule.perMinute / 60_000) >= rule.burst) this.buckets.delete(key);
    }
  }
}

/**
 * Keeps a long-lived client's token fresh (the container's; see `gt_token_refresh`): rooms close a
 * socket when its token expires (4401), so the token is renewed when two thirds of its lifetime
 * have passed, and whoever holds sockets reconnects them with the new one (`onRenewed`). A failed
 * renewal is tried again, more often as the expiry nears.
 */
export type TokenTiming = { iat: number; exp: number };

/** A JWT's issue and expiry times (seconds), read without verifying: a client only needs the timing. */
export function tokenTiming(token: string): TokenTiming | null {
  try {
    const part = (token.split(".")[1] ?? "").replaceAll("-", "+").replaceAll("_", "/");
    const payload = JSON.parse(atob(part)) as Partial<TokenTiming>; // atob: in browsers and Node alike
    return typeof payload.iat === "number" && typeof payload.exp === "number" ? { iat: payload.iat, exp: payload.exp } : null;
  } catch {
    return null;
  }
}

export class TokenKeeper {
  private token: string;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners = new Set<(token: string) => void>();
  private stopped = false;

  constructor(
    token: string,
    /** Asks the room for a fresh token (with the current one). */
    private readonly renew: (current: string) => Promise<string>,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.token = token;
  }

  /** The token to use now: pass this function as a RoomAddress's `token`. */
  readonly current = (): string => this.token;

  onRenewed(listener: (token: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    this.stopped = false;
    const timing = tokenTiming(this.token);
    if (!timing) return; // not a JWT we can read: nothing to schedule
    const renewAt = (timing.iat + ((timing.exp - timing.iat) * 2) / 3) * 1000;
    this.schedule(renewAt - Date.now());
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(inMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    // Timers take at most ~24.8 days; a later time is looked at again then.
    this.timer = setTimeout(() => void this.renewNow(), Math.min(2 ** 31 - 1, Math.max(0, inMs)));
    this.timer.unref?.();
  }

  private async renewNow(): Promise<void> {
    const timing = tokenTiming(this.token);
    if (timing && (timing.iat + ((timing.exp - timing.iat) * 2) / 3) * 1000 > Date.now() + 1000) return this.start(); // woke early (a long timer)
    try {
      const fresh = await this.renew(this.token);
      if (this.stopped) return;
      this.token = fresh;
      this.log(`token renewed; it expires ${new Date((tokenTiming(fresh)?.exp ?? 0) * 1000).toISOString()}`);
      for (const listener of this.listeners) listener(fresh);
      this.start();
    } catch (error) {
      const left = timing ? timing.exp * 1000 - Date.now() : 0;
      this.log(`could not renew the token (${error instanceof Error ? error.message : error}); ${Math.round(left / 1000)} s left, trying again`);
      if (left > 0) this.schedule(Math.min(60_000, Math.max(1_000, left / 10)));
    }
  }
}

/**
 * Tool dispatch, the same over a socket and HTTP: the tool by name, the caller's role, its
 * arguments parsed by the tool's schema, the room's own say (checkCaller, noteCall), then the run;
 * a ToolError is the caller's typed answer, anything else INTERNAL (and logged). Also what tools use
 * of the room: rate limits by principal, and `gt_token_refresh`.
 */
import { z } from "zod";
import { principalOf } from "../access.ts";
import { signToken } from "../auth.ts";
import { RateLimiter, type RateKind } from "../limits.ts";
import { MAX_TOKEN_LIFETIME_S, ToolError, describeIssues, type TokenPayload, type TokenRefreshResult } from "../protocol.ts";
import { tool, type Caller, type ReplyExtra, type RoomSpec, type ToolSpec, type ToolTable } from "./contract.ts";
import type { CallOutcome } from "./frames.ts";

export class Tools {
  readonly limiter = new RateLimiter();
  private table: ToolTable | null = null;

  constructor(
    private readonly spec: RoomSpec,
    private readonly secret: () => string,
    private readonly roomId: () => string,
  ) {}

  async call(name: string, rawArgs: unknown, caller: Caller): Promise<CallOutcome> {
    const { spec } = this;
    // What the room adds to the reply (the witness's nudge), whether the tool answers or refuses.
    let extra: ReplyExtra = {};
    try {
      // Built once: the table holds a closure and a schema per tool (zod schemas are costly to make),
      // and nothing in it changes while the room lives.
      const tools = (this.table ??= spec.tools());
      const found = Object.hasOwn(tools, name) ? tools[name] : undefined;
      if (!found) throw new ToolError("UNKNOWN_TOOL", `no tool ${name} in the ${spec.party === "main" ? "town" : "rig"} room`);
      if (!found.roles.includes(caller.token.role)) throw new ToolError("FORBIDDEN", `role ${caller.token.role} may not call ${name}`);
      const args = found.schema.safeParse(rawArgs);
      if (!args.success) throw new ToolError("INVALID_ARGS", describeIssues(args.error));
      spec.checkCaller?.(name, caller);
      extra = (await spec.noteCall?.(name, caller)) ?? {};
      return { ok: true, value: (await found.run(args.data, caller)) ?? null, ...extra };
    } catch (error) {
      if (error instanceof ToolError)
        return {
          ok: false,
          error: { code: error.code, message: error.message, ...(error.retryAfter !== undefined ? { retry_after: error.retryAfter } : {}) },
          ...extra,
        };
      console.error(`[${spec.party}/${this.roomId()}] ${name} failed`, error);
      return { ok: false, error: { code: "INTERNAL", message: "internal error" }, ...extra };
    }
  }

  /** Takes `cost` of the caller's `kind` budget, or refuses with RATE_LIMITED and when to try again. */
  rateLimit(caller: Caller, kind: RateKind, cost = 1): void {
    const waitMs = this.limiter.take(principalOf(caller.token), kind, cost, Date.now());
    if (waitMs === null) return;
    if (waitMs === Infinity) throw new ToolError("TOO_LARGE", `one call may cost at most a full ${kind} budget`);
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    const what = kind === "bead" ? "beads" : kind === "refresh" ? "token renewals" : kind === "log" ? "output reads" : `${kind}s`;
    throw new ToolError("RATE_LIMITED", `too many ${what} from this token; try again in ${retryAfter} s`, retryAfter);
  }

  /** Takes one of the token's `kind` budget; false when it is spent. */
  takeRate(token: TokenPayload, kind: RateKind): boolean {
    return this.limiter.take(principalOf(token), kind, 1, Date.now()) === null;
  }

  /** `gt_token_refresh` (see LiveServices.tokenRefreshTool). */
  tokenRefreshTool(stillEntitled: (token: TokenPayload) => string | null = () => null): ToolSpec<Record<string, never>> {
    return tool(z.strictObject({}), ["container", "agent"], async (_args, caller): Promise<TokenRefreshResult> => {
      const why = stillEntitled(caller.token);
      if (why) throw new ToolError("FORBIDDEN", why);
      const { sub: _sub, jti: _jti, iat, exp, ...claims } = caller.token;
      const now = Math.floor(Date.now() / 1000);
      // Only in the second half of its life: one token is not a well of fresh ones.
      if (now < iat + (exp - iat) / 2) throw new ToolError("CONFLICT", `renew this token after ${new Date((iat + (exp - iat) / 2) * 1000).toISOString()}`);
      this.rateLimit(caller, "refresh");
      const lifetime = Math.min(MAX_TOKEN_LIFETIME_S, Math.max(1, exp - iat));
      const token = await signToken({ ...claims, iat: now, exp: now + lifetime }, this.secret());
      return { token, expiresAt: (now + lifetime) * 1000 };
    });
  }
}

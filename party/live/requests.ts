/**
 * A room's HTTP routes, after the gate:
 *   GET  /parties/<party>/<room>                  the room's identity and protocol version
 *   POST /parties/<party>/<room>/api/<tool>       a tool call (the same tools as a tool socket)
 *   POST /parties/<party>/<room>/internal/<op>    a room-to-room operation, signed (see ./calls.ts)
 * Anything else is 404 or 405, told only to a caller whose token the room accepts.
 */
import type * as Party from "partykit/server";
import { z } from "zod";
import type { Admission, Purpose } from "../access.ts";
import { checkInternal, tokenFromRequest, verifyToken } from "../auth.ts";
import { ERROR_STATUS, LIMITS, PROTOCOL_VERSION, ToolError, describeIssues, type TokenPayload } from "../protocol.ts";
import type { Caller, RoomSpec } from "./contract.ts";
import type { CallOutcome } from "./frames.ts";
import { errorResponse, jsonResponse, readBody, roomPath } from "./http.ts";

/** What the routes use of their LiveRoom. */
export type RequestsHost = {
  spec: Pick<RoomSpec, "party" | "ref" | "internal">;
  roomId(): string;
  secret(): string;
  isRevoked(jti: string): boolean;
  admit(token: TokenPayload, purpose: Purpose): Admission;
  learnOrigin(url: string, token: TokenPayload): Promise<void>;
  callTool(name: string, args: unknown, caller: Caller): Promise<CallOutcome>;
};

export class Requests {
  constructor(private readonly host: RequestsHost) {}

  async handle(request: Party.Request): Promise<Response> {
    const req = request as unknown as Request;
    const rest = roomPath(req.url);
    const api = rest.match(/^\/api\/([A-Za-z0-9_]+)$/);
    const internal = rest.match(/^\/internal\/([a-z_]+)$/);
    try {
      if (api && req.method === "POST") return await this.api(api[1]!, req);
      if (internal && req.method === "POST") return await this.internal(internal[1]!, req);
      if (req.method === "GET" && rest === "") return await this.info(req);
      // A wrong method or an unknown route, told only to a caller whose token the room accepts.
      if (!internal) await this.authorise(req);
      await req.body?.cancel().catch(() => {});
      const allow = api || internal ? "POST" : rest === "" ? "GET" : null;
      const where = `${req.method} ${new URL(req.url).pathname}`;
      if (allow) return errorResponse("METHOD_NOT_ALLOWED", `${where}: this route takes ${allow} only`, undefined, { allow });
      return errorResponse("NOT_FOUND", `no route ${where}: tools are POST /api/<tool>`);
    } catch (error) {
      if (error instanceof ToolError) return errorResponse(error.code, error.message, error.retryAfter);
      if (error instanceof z.ZodError) return errorResponse("BAD_FRAME", describeIssues(error)); // a room-to-room body
      console.error(`[${this.host.spec.party}/${this.host.roomId()}] ${req.method} ${new URL(req.url).pathname} failed`, error);
      return errorResponse("INTERNAL", "internal error");
    }
  }

  /** The caller's verified token (HTTP: the Authorization header only), not revoked. */
  private async authorise(req: Request): Promise<TokenPayload> {
    const token = tokenFromRequest(req, "http");
    if (!token) throw new ToolError("UNAUTHORIZED", "no token: send Authorization: Bearer <token>");
    const check = await verifyToken(token, this.host.secret());
    if (!check.ok) throw new ToolError("UNAUTHORIZED", check.reason);
    if (this.host.isRevoked(check.payload.jti)) throw new ToolError("UNAUTHORIZED", "token revoked");
    return check.payload;
  }

  private async info(req: Request): Promise<Response> {
    await this.authorise(req);
    if (!this.host.spec.ref()) throw new ToolError("UNKNOWN_RIG", `room ${this.host.roomId()} does not exist (never added, or removed)`);
    return jsonResponse({ ok: true, room: { party: this.host.spec.party, id: this.host.roomId() }, protocol: PROTOCOL_VERSION });
  }

  private async api(name: string, req: Request): Promise<Response> {
    let token: TokenPayload;
    try {
      token = await this.authorise(req);
    } catch (error) {
      await req.body?.cancel().catch(() => {}); // nothing of an unauthorised body is read
      throw error;
    }
    const admission = this.host.admit(token, { kind: "tools", tool: name });
    if (!admission.ok) return errorResponse(admission.code, admission.message);
    await this.host.learnOrigin(req.url, token);
    const body = await readBody(req, LIMITS.maxFrameBytes);
    if (!body.ok) return errorResponse(body.code, body.message);
    const outcome = await this.host.callTool(name, body.value, { token });
    return outcome.ok
      ? jsonResponse(outcome)
      : jsonResponse(
          outcome,
          ERROR_STATUS[outcome.error.code],
          outcome.error.retry_after !== undefined ? { "retry-after": String(outcome.error.retry_after) } : {},
        );
  }

  private async internal(op: string, req: Request): Promise<Response> {
    // Checked here too: a call from another room's stub does not pass the gate.
    const signed = await checkInternal(req.headers.get("x-townhall-internal"), this.host.secret(), this.host.roomId(), op);
    if (!signed.ok) {
      await req.body?.cancel().catch(() => {});
      return errorResponse("UNAUTHORIZED", signed.reason);
    }
    // Room-to-room bodies wrap a client's (a mail), so they may be larger.
    const body = await readBody(req, LIMITS.hardFrameBytes, signed.digest);
    if (!body.ok) return errorResponse(body.code, body.message);
    return this.host.spec.internal(op, body.value);
  }
}

/**
 * A tool socket's frames: JSON text, parsed once here (size first, then JSON, then the call frame's
 * schema), each call answered with a result frame, and bad frames answered with their typed error.
 * Sustained abuse (bad frames, unknown tools, invalid arguments) closes the socket (4400).
 */
import type * as Party from "partykit/server";
import { CLOSE, LIMITS, callFrame, describeIssues, type ErrorBody, type ErrorCode } from "../protocol.ts";
import type { Caller, ReplyExtra } from "./contract.ts";
import type { SocketInfo, Sockets } from "./sockets.ts";

/** A tool call's outcome: its value, or its typed error; and what the room adds to the reply either way. */
export type CallOutcome = ({ ok: true; value: unknown } | { ok: false; error: ErrorBody }) & ReplyExtra;

/**
 * The id of a frame that is not JSON as a whole (cut short, or oversize and broken), read from its
 * first 200 characters only: `{"type":"call","id":"…"` or `{"id":"…"`, as clients write call
 * frames, so the id is the frame's own and not one nested in its args. Null when it does not start so.
 */
export function leadingId(text: string): string | null {
  const match = /^\s*\{\s*(?:"type"\s*:\s*"call"\s*,\s*)?"id"\s*:\s*"([^"\\\x00-\x1f]{1,64})"/.exec(text.slice(0, 200));
  return match?.[1] ?? null;
}

export class ToolFrames {
  constructor(
    private readonly sockets: Sockets,
    private readonly callTool: (name: string, args: unknown, caller: Caller) => Promise<CallOutcome>,
  ) {}

  /** One text frame of a tool socket: a call, answered with its result. */
  async text(text: string, connection: Party.Connection, info: SocketInfo): Promise<void> {
    const bytes = text.length * 3 <= LIMITS.maxFrameBytes ? text.length : new TextEncoder().encode(text).byteLength;
    if (bytes > LIMITS.hardFrameBytes) return this.sockets.close(connection, CLOSE.TOO_LARGE, "frame too large");
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      const id = leadingId(text);
      return this.refuse(
        connection,
        info,
        id,
        bytes > LIMITS.maxFrameBytes ? "TOO_LARGE" : "BAD_FRAME",
        bytes > LIMITS.maxFrameBytes ? `frame is ${bytes} bytes; the limit is ${LIMITS.maxFrameBytes}` : "frame is not JSON",
      );
    }
    const id = typeof (json as { id?: unknown })?.id === "string" ? (json as { id: string }).id.slice(0, 64) || null : null;
    if (bytes > LIMITS.maxFrameBytes) return this.refuse(connection, info, id, "TOO_LARGE", `frame is ${bytes} bytes; the limit is ${LIMITS.maxFrameBytes}`);
    const frame = callFrame.safeParse(json);
    if (!frame.success) return this.refuse(connection, info, id, "BAD_FRAME", describeIssues(frame.error));
    const outcome = await this.callTool(frame.data.tool, frame.data.args ?? {}, { token: info.token, connectionId: connection.id });
    if (!outcome.ok && (outcome.error.code === "UNKNOWN_TOOL" || outcome.error.code === "INVALID_ARGS")) this.strike(connection, info);
    const extra = outcome.nudge ? { nudge: outcome.nudge } : {};
    this.sockets.send(
      connection,
      outcome.ok
        ? { type: "result", id: frame.data.id, ok: true, value: outcome.value, ...extra }
        : { type: "result", id: frame.data.id, ok: false, error: outcome.error, ...extra },
    );
  }

  /** Answers a bad frame with its typed error; sustained abuse closes the socket. */
  refuse(connection: Party.Connection, info: SocketInfo, id: string | null, code: ErrorCode, message: string): void {
    this.sockets.send(connection, { type: "result", id, ok: false, error: { code, message } });
    this.strike(connection, info);
  }

  private strike(connection: Party.Connection, info: SocketInfo): void {
    const now = Date.now();
    info.strikes = info.strikes.filter((t) => now - t < LIMITS.abuseWindowMs);
    info.strikes.push(now);
    if (info.strikes.length > LIMITS.abuseStrikes) this.sockets.close(connection, CLOSE.ABUSE, "too many bad frames");
  }
}

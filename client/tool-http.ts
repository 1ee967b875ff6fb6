/**
 * A tool call over HTTP, and its error, apart from the socket client of tools.ts: that one parses
 * frames with protocol.ts's zod schemas, and the agents' `gt` calls over HTTP without loading zod.
 */
import type { ErrorCode } from "../party/protocol.ts";
import { httpBase, tokenOf, type RoomAddress } from "./connection.ts";

export class ToolCallError extends Error {
  constructor(
    readonly code: ErrorCode | "DISCONNECTED" | "TIMEOUT",
    message: string,
    readonly status?: number,
    /** RATE_LIMITED: seconds until the call would be accepted. */
    readonly retryAfter?: number,
  ) {
    super(`${code}: ${message}`);
    this.name = "ToolCallError";
  }
}

/** `POST /parties/<party>/<room>/api/<tool>`; resolves with the value or throws ToolCallError. */
export async function callHttp<T = unknown>(address: Omit<RoomAddress, "WebSocket">, tool: string, args: unknown = {}): Promise<T> {
  const response = await fetch(`${httpBase(address)}/api/${tool}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${tokenOf(address)}` },
    body: JSON.stringify(args),
  });
  const body = (await response.json()) as { ok: boolean; value?: T; error?: { code: ErrorCode; message: string; retry_after?: number } };
  if (!body.ok)
    throw new ToolCallError(body.error?.code ?? "INTERNAL", body.error?.message ?? `HTTP ${response.status}`, response.status, body.error?.retry_after);
  return body.value as T;
}

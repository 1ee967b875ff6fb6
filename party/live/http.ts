/**
 * HTTP at a room's edge: JSON answers, typed error answers, a request's path inside its room, and
 * bodies read while counting (past a limit the rest is never read).
 */
import { bodyDigest, sameString } from "../auth.ts";
import { ERROR_STATUS, type ErrorBody, type ErrorCode } from "../protocol.ts";

const JSON_HEADERS = { "content-type": "application/json" };

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

export function errorResponse(code: ErrorCode, message: string, retryAfter?: number, headers: Record<string, string> = {}): Response {
  const body: ErrorBody = { code, message, ...(retryAfter !== undefined ? { retry_after: retryAfter } : {}) };
  return jsonResponse({ ok: false, error: body }, ERROR_STATUS[code], {
    ...(retryAfter !== undefined ? { "retry-after": String(retryAfter) } : {}),
    ...headers,
  });
}

/** `/parties/<party>/<room>[/rest]` → the rest ("" for the room itself). */
export function roomPath(url: string): string {
  const path = new URL(url).pathname;
  const match = path.match(/^\/parties\/[^/]+\/[^/]+(\/.*)?$/);
  return match?.[1] ?? "";
}

/** The stream's bytes, or null as soon as they pass `limit` (the rest is never read). */
export async function readLimited(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array | null> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return concat(chunks, size);
}

/** Reads a JSON body, counting as it arrives: past `limit` bytes it stops reading and says so. */
export async function readBody(
  req: Request,
  limit: number,
  digest?: string,
): Promise<{ ok: true; value: unknown } | { ok: false; code: ErrorCode; message: string }> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > limit) {
    await req.body?.cancel().catch(() => {});
    return { ok: false, code: "TOO_LARGE", message: `body is ${declared} bytes; the limit is ${limit}` };
  }
  const bytes = req.body ? await readLimited(req.body, limit) : new Uint8Array();
  if (!bytes) return { ok: false, code: "TOO_LARGE", message: `the limit is ${limit} bytes` };
  if (digest !== undefined && !sameString(await bodyDigest(bytes), digest))
    return { ok: false, code: "UNAUTHORIZED", message: "the body is not the one signed" };
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, code: "BAD_FRAME", message: "body is not JSON" };
  }
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

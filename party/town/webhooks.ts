/**
 * Outgoing webhooks as pure rules (webhook-tools.ts carries them out): which events a rig summary's
 * attention list raises (the same items the overview's lane shows, so the two never disagree), each
 * event's stable id, the two body formats, the signature, and when a failed delivery is tried again.
 */
import { sha256Hex } from "../sha256.ts";
import { ToolError, type AttentionItem, type WebhookFormat, type WebhookEventName, type WebhookPayload } from "../protocol.ts";

/** A town's hooks and their outboxes are bounded: a few receivers, a day of retries, so many waiting per hook. */
export const WEBHOOKS = {
  /** Hooks per town. */
  maxHooks: 10,
  maxUrl: 2000,
  /** Deliveries waiting per hook; past it a new event for that hook is dropped (counted, with a feed line). */
  maxPending: 200,
  /** Backoff: 1 s, 2 s, 4 s … never more than 5 minutes between attempts. */
  baseMs: 1_000,
  maxMs: 5 * 60_000,
  /** A delivery still failing this long after its event is dropped, with a feed line. */
  deadlineMs: 24 * 3600_000,
  /** One attempt waits this long for the receiver's answer. */
  timeoutMs: 10_000,
} as const;

/** Delay before attempt `attempts + 1` (attempts made so far ≥ 1): doubling from 1 s, capped. */
export function webhookBackoff(attempts: number): number {
  return Math.min(WEBHOOKS.maxMs, WEBHOOKS.baseMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
}

/** Whether a delivery that failed now should be dropped rather than tried again. */
export function pastDeadline(createdAt: number, now: number): boolean {
  return now - createdAt >= WEBHOOKS.deadlineMs;
}

/** A hook's URL, checked: http or https, no credentials in it, not too long. Throws INVALID_ARGS. */
export function checkHookUrl(raw: string): string {
  const text = raw.trim();
  if (text.length > WEBHOOKS.maxUrl) throw new ToolError("INVALID_ARGS", `url: at most ${WEBHOOKS.maxUrl} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ToolError("INVALID_ARGS", "url: not a URL (give http://… or https://…)");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new ToolError("INVALID_ARGS", `url: must be http or https, not ${url.protocol.replace(/:$/, "")}`);
  // The URL is shown in the dashboard and gt: a password in it would be shown too. The secret signs.
  if (url.username || url.password) throw new ToolError("INVALID_ARGS", "url: no user or password in it (each delivery is signed with the hook's secret)");
  return url.toString();
}

export function requireRoomForHook(count: number): void {
  if (count >= WEBHOOKS.maxHooks) throw new ToolError("CONFLICT", `the town has ${count} webhooks; at most ${WEBHOOKS.maxHooks}`);
}

/** What one event is about, before it is put in a body. */
export type WebhookEvent = Omit<WebhookPayload, "id" | "town"> & {
  /** What makes it the same event again: the attention item's kind, id and `at` (or the convoy and its landing). */
  key: string;
};

/** The attention item's event, or null when its kind raises none (mail waiting; a stalled or dead agent). */
export function eventOfItem(rig: { id: string; name: string }, item: AttentionItem): WebhookEvent | null {
  const event = EVENT_OF[item.kind]?.(item);
  if (!event) return null;
  const bead = item.kind === "failed_bead" ? item.id : (item as { beadId?: string }).beadId;
  return {
    key: `${rig.id}/${item.kind}/${item.id}/${item.at}`,
    event,
    rig: rig.name,
    ...(bead ? { bead } : {}),
    ...(item.kind === "agent" ? { agent: item.id } : {}),
    title: item.title,
    detail: item.detail,
    at: item.at,
  };
}

const EVENT_OF: Partial<Record<AttentionItem["kind"], (item: AttentionItem) => WebhookEventName | null>> = {
  failed_bead: () => "bead_failed",
  escalation: () => "escalation_opened",
  // The lane's agent items are stalled, hung or dead; the hook's event is the hang.
  agent: (item) => (item.detail.startsWith("hung") ? "agent_hung" : null),
  budget: () => "budget_reached",
  rig_error: () => "rig_error",
};

const itemKey = (item: AttentionItem) => `${item.kind}/${item.id}/${item.at}`;

/**
 * The events of a new attention list: each item that was not in the previous one (by kind, id and
 * since when) and raises an event. An item that went and came back with the same `at` (pushed out of
 * the bounded list and back) raises its event again, with the same id: receivers drop the repeat.
 */
export function newEvents(rig: { id: string; name: string }, before: readonly AttentionItem[], after: readonly AttentionItem[]): WebhookEvent[] {
  const seen = new Set(before.map(itemKey));
  const events: WebhookEvent[] = [];
  for (const item of after) {
    if (seen.has(itemKey(item))) continue;
    const event = eventOfItem(rig, item);
    if (event) events.push(event);
  }
  return events;
}

export function convoyLandedEvent(
  convoy: { id: string; title: string; landedAt?: number | undefined },
  done: number,
  total: number,
  failed: number,
): WebhookEvent {
  const at = convoy.landedAt ?? 0;
  return {
    key: `convoy/${convoy.id}/${at}`,
    event: "convoy_landed",
    title: convoy.title,
    detail: `${done}/${total} done${failed ? `, ${failed} failed` : ""}`,
    at,
  };
}

/** The event's stable id: the same event (town and key) gives the same id, across retries and restarts. */
export function eventId(town: string, key: string): string {
  return `evt_${sha256Hex(`${town}\n${key}`).slice(0, 32)}`;
}

export function payloadOf(town: string, id: string, event: WebhookEvent): WebhookPayload {
  const { key: _key, ...fields } = event;
  return { id, ...fields, town };
}

const LABEL: Record<WebhookEventName, string> = {
  bead_failed: "Bead failed",
  escalation_opened: "Escalation opened",
  agent_hung: "Agent hung",
  convoy_landed: "Convoy landed",
  budget_reached: "Budget reached",
  rig_error: "Rig in error",
  test: "Test delivery",
};

/** The body sent to a hook of that format: the plain JSON payload, or Slack's `{text, blocks}`. */
export function bodyOf(format: WebhookFormat, payload: WebhookPayload): string {
  if (format === "json") return JSON.stringify(payload);
  const where = payload.rig ? `${payload.town}/${payload.rig}` : payload.town;
  const text = `${LABEL[payload.event]} in ${where}: ${payload.title} (${payload.detail})`;
  const fields = [payload.bead && `bead ${payload.bead}`, payload.agent && `agent ${payload.agent}`, `id ${payload.id}`].filter(Boolean).join(" · ");
  return JSON.stringify({
    text: slackEscape(text),
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `*${slackEscape(LABEL[payload.event])}* in ${slackEscape(where)}\n${slackEscape(payload.title)}\n${slackEscape(payload.detail)}`,
        },
      },
      { type: "context", elements: [{ type: "mrkdwn", text: slackEscape(fields) }] },
    ],
  });
}

/** Slack reads `<…>` and `&` as markup: an agent's title must not make a link or a mention. */
function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** `sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>` with the hook's secret (the timestamp is signed too, so an old delivery cannot be replayed as new). */
export async function signature(secret: string, timestamp: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${timestamp}.${body}`)));
  return `sha256=${hex(mac)}`;
}

/** A new hook secret: 32 random bytes, hex, prefixed so it is recognisable (and redactable). */
export function newSecret(): string {
  return `whsec_${hex(crypto.getRandomValues(new Uint8Array(32)))}`;
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** What a receiver's answer means: 2xx delivered; 410 Gone turns the hook off; anything else is tried again. */
export function classifyWebhookReply(status: number): "delivered" | "gone" | "retry" {
  if (status >= 200 && status < 300) return "delivered";
  if (status === 410) return "gone";
  return "retry";
}

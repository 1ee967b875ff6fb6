/**
 * The town's outgoing webhooks, carried out (the rules are in webhooks.ts): gt_webhook_add / list /
 * remove / test; the deliveries of an event, put in the same write as the event (a rig's summary, a
 * convoy's landing) as durable outbox entries (`webhook:<hook>:<event id>`); one attempt of a
 * delivery (signed, with its stable id) and what its outcome changes in the hook's status.
 * Hooks and their secrets live in room storage only (`webhook:<id>`), never in a document or the feed.
 */
import { newId } from "../ids.ts";
import { tool, type ToolSpec } from "../live/index.ts";
import type { Attempt, OutboxEntry } from "../outbox.ts";
import {
  ToolError,
  townToolArgs,
  type FeedEvent,
  type Rig,
  type RigSummary,
  type Webhook,
  type WebhookAddResult,
  type WebhookDelivery,
  type WebhookEventName,
  type WebhookTestResult,
} from "../protocol.ts";
import { ROLES, requireTownWide, type Town } from "./context.ts";
import {
  WEBHOOKS,
  bodyOf,
  checkHookUrl,
  classifyWebhookReply,
  eventId,
  newEvents,
  newSecret,
  pastDeadline,
  payloadOf,
  requireRoomForHook,
  signature,
  webhookBackoff,
  type WebhookEvent,
} from "./webhooks.ts";

const PREFIX = "webhook:";
const hookKey = (id: string) => `${PREFIX}${id}`;
/** Outbox keys of one hook's deliveries. */
const deliveryPrefix = (hookId: string) => `webhook:${hookId}:`;

/** A hook as stored: what gt_webhook_list shows, minus the live `pending` count, plus its secret. */
type StoredHook = Omit<Webhook, "pending"> & { secret: string };

/** One delivery in the outbox: the body is fixed when the event is recorded, so every retry sends the same bytes. */
export type WebhookDeliveryPayload = { hook: string; id: string; event: WebhookEventName; body: string };

/** The deliveries of some events: storage puts to go in the event's write, then `queued` once it is written. */
export type Queued = { put: Record<string, unknown>; events: FeedEvent[]; entries: OutboxEntry[] };

export class Webhooks {
  private readonly hooks = new Map<string, StoredHook>();
  /**
   * A hook whose receiver just failed is left alone until its backoff has passed: its other waiting
   * deliveries are put off without a request, so one receiver that is down (or slow to time out)
   * costs one attempt per backoff, not one per delivery, and does not hold up the town's mail.
   */
  private readonly pausedUntil = new Map<string, number>();

  constructor(private readonly town: Town) {}

  async load(): Promise<void> {
    for (const hook of (await this.town.storage.list<StoredHook>({ prefix: PREFIX })).values()) if (hook?.id) this.hooks.set(hook.id, hook);
  }

  tools(): Record<string, ToolSpec<any>> {
    const town = this.town;
    return {
      gt_webhook_add: tool(townToolArgs.gt_webhook_add, ROLES.operator, async (args, caller): Promise<WebhookAddResult> => {
        requireTownWide(caller, "configure webhooks");
        town.rateLimit(caller, "webhook");
        const url = checkHookUrl(args.url);
        requireRoomForHook(this.hooks.size);
        const hook: StoredHook = { id: newId(), url, format: args.format ?? "slack", createdAt: Date.now(), dropped: 0, last: null, secret: newSecret() };
        await town.records.write([], [town.feedEvent("webhook", `webhook added: ${hostOf(url)} (${hook.format})`)], { put: { [hookKey(hook.id)]: hook } });
        this.hooks.set(hook.id, hook);
        return { ...this.shown(hook), secret: hook.secret };
      }),
      gt_webhook_list: tool(townToolArgs.gt_webhook_list, ROLES.operator, async (_args, caller): Promise<Webhook[]> => {
        requireTownWide(caller, "list webhooks");
        return [...this.hooks.values()].sort((a, b) => a.createdAt - b.createdAt).map((h) => this.shown(h));
      }),
      gt_webhook_remove: tool(townToolArgs.gt_webhook_remove, ROLES.operator, async (args, caller) => {
        requireTownWide(caller, "remove webhooks");
        const hook = this.require(args.id);
        await town.records.write([], [town.feedEvent("webhook", `webhook removed: ${hostOf(hook.url)}`)], { delete: [hookKey(hook.id)] });
        this.hooks.delete(hook.id);
        await town.outbox.dropAll(deliveryPrefix(hook.id));
        return { removed: hook.id };
      }),
      gt_webhook_test: tool(townToolArgs.gt_webhook_test, ROLES.operator, async (args, caller): Promise<WebhookTestResult> => {
        requireTownWide(caller, "test webhooks");
        town.rateLimit(caller, "webhook");
        const hook = this.require(args.id);
        if (hook.disabledAt)
          throw new ToolError("CONFLICT", `webhook ${hook.id} is off: ${hook.disabledWhy ?? "its receiver answered 410 Gone"}; remove it and add it again`);
        const waiting = town.outbox.count(deliveryPrefix(hook.id));
        if (waiting >= WEBHOOKS.maxPending)
          throw new ToolError("CONFLICT", `webhook ${hook.id} has ${waiting} deliveries waiting already; at most ${WEBHOOKS.maxPending}`);
        const now = Date.now();
        const event: WebhookEvent = { key: `test/${newId()}`, event: "test", title: "Test delivery", detail: "sent from the town's webhook settings", at: now };
        const queued = this.queue([event], [hook]);
        await town.records.write([], queued.events, { put: queued.put });
        await this.queued(queued);
        return { id: (queued.entries[0]!.payload as WebhookDeliveryPayload).id, hook: hook.id };
      }),
    };
  }

  /** The deliveries of a rig's new attention items (webhooks.ts newEvents), for the summary's write. */
  forSummary(rig: Rig, before: RigSummary | undefined, after: RigSummary): Queued {
    return this.queue(newEvents({ id: rig.id, name: rig.name }, before?.attention ?? [], after.attention ?? []));
  }

  /**
   * The outbox entries of `events` for every hook that is on (or those given), and the puts that
   * store them; a hook whose outbox is full drops the event (counted in its status, one feed line).
   */
  queue(events: readonly WebhookEvent[], hooks: readonly StoredHook[] = [...this.hooks.values()]): Queued {
    const queued: Queued = { put: {}, events: [], entries: [] };
    if (!events.length) return queued;
    const now = Date.now();
    for (const hook of hooks) {
      if (hook.disabledAt) continue;
      let waiting = this.town.outbox.count(deliveryPrefix(hook.id));
      let dropped = 0;
      for (const event of events) {
        const id = event.event === "test" ? `evt_${newId().toLowerCase()}` : eventId(this.town.id, event.key);
        const key = `${deliveryPrefix(hook.id)}${id}`;
        if (this.town.outbox.has(key)) continue; // the same event, still on its way
        if (waiting >= WEBHOOKS.maxPending) {
          dropped++;
          continue;
        }
        const payload: WebhookDeliveryPayload = { hook: hook.id, id, event: event.event, body: bodyOf(hook.format, payloadOf(this.town.id, id, event)) };
        const entry: OutboxEntry = { key, kind: "webhook", payload, attempts: 0, nextAttemptAt: now, createdAt: now };
        queued.entries.push(entry);
        queued.put[`outbox:${key}`] = entry;
        waiting++;
      }
      if (dropped) {
        const next = { ...hook, dropped: hook.dropped + dropped };
        queued.put[hookKey(hook.id)] = next;
        this.hooks.set(hook.id, next);
        queued.events.push(
          this.town.feedEvent(
            "webhook",
            `webhook ${hostOf(hook.url)}: ${dropped} event${dropped === 1 ? "" : "s"} dropped, ${WEBHOOKS.maxPending} deliveries already waiting`,
            {
              tone: "bad",
            },
          ),
        );
      }
    }
    return queued;
  }

  /** Hands deliveries already written to the outbox; the room's alarm sends them at once. */
  async queued(queued: Queued): Promise<void> {
    for (const entry of queued.entries) await this.town.outbox.added(entry);
  }

  /** One attempt of a delivery: signed now, with its stable id; the hook's status says how it went. */
  async attempt(entry: OutboxEntry): Promise<Attempt> {
    const delivery = entry.payload as WebhookDeliveryPayload;
    const hook = this.hooks.get(delivery.hook);
    if (!hook) return { kind: "rejected", error: "the webhook was removed" };
    if (hook.disabledAt) return { kind: "rejected", error: "the webhook is off" };
    const paused = this.pausedUntil.get(hook.id) ?? 0;
    if (Date.now() < paused) {
      if (pastDeadline(entry.createdAt, Date.now()))
        return { kind: "rejected", error: `still failing (${hook.last?.error ?? "error"}) a day after the event: dropped` };
      return { kind: "retry", error: entry.lastError ?? "waiting: its receiver failed just now", delayMs: paused - Date.now() };
    }
    const timestamp = Math.floor(Date.now() / 1000);
    let error: string;
    let verdict: ReturnType<typeof classifyWebhookReply>;
    try {
      const response = await fetch(hook.url, {
        method: "POST",
        redirect: "manual",
        signal: AbortSignal.timeout(WEBHOOKS.timeoutMs),
        headers: {
          "content-type": "application/json",
          "user-agent": "Townhall-Webhooks",
          "x-townhall-delivery": delivery.id,
          "x-townhall-event": delivery.event,
          "x-townhall-timestamp": String(timestamp),
          "x-townhall-signature": await signature(hook.secret, timestamp, delivery.body),
        },
        body: delivery.body,
      });
      await response.body?.cancel().catch(() => {});
      verdict = classifyWebhookReply(response.status);
      error = `HTTP ${response.status}`;
    } catch (e) {
      verdict = "retry";
      error = e instanceof Error ? `${e.name === "TimeoutError" ? "no answer in 10 s" : e.message}` : String(e);
    }
    const now = Date.now();
    const attempts = entry.attempts + 1;
    const last: WebhookDelivery =
      verdict === "delivered"
        ? { ok: true, at: now, event: delivery.event, id: delivery.id, attempts }
        : { ok: false, at: now, event: delivery.event, id: delivery.id, error, attempts };
    const current = this.hooks.get(hook.id);
    if (!current) return { kind: "rejected", error: "the webhook was removed" };
    const next: StoredHook = { ...current, last };
    if (verdict === "delivered") next.lastOkAt = now;
    if (verdict === "gone") {
      next.disabledAt = now;
      next.disabledWhy = "its receiver answered 410 Gone";
    }
    this.hooks.set(hook.id, next);
    await this.town.storage.put({ [hookKey(hook.id)]: next });
    if (verdict === "delivered") this.pausedUntil.delete(hook.id);
    else this.pausedUntil.set(hook.id, now + webhookBackoff(attempts));
    if (verdict === "delivered") return { kind: "delivered" };
    if (verdict === "gone") return { kind: "rejected", error: "410 Gone: the webhook is off" };
    if (pastDeadline(entry.createdAt, now)) return { kind: "rejected", error: `still failing (${error}) a day after the event: dropped` };
    return { kind: "retry", error, delayMs: webhookBackoff(attempts) };
  }

  /** A delivery that will not be sent: one feed line (never the body, nor the secret). */
  async settle(entry: OutboxEntry, outcome: Exclude<Attempt, { kind: "retry" }>): Promise<void> {
    if (outcome.kind !== "rejected") return;
    const delivery = entry.payload as WebhookDeliveryPayload;
    const hook = this.hooks.get(delivery.hook);
    if (!hook) return; // removed: its deliveries went with it
    if (!hook.disabledAt) {
      const next = { ...hook, dropped: hook.dropped + 1 };
      this.hooks.set(hook.id, next);
      await this.town.storage.put({ [hookKey(hook.id)]: next });
    }
    await this.town.records.write(
      [],
      [this.town.feedEvent("webhook", `webhook ${hostOf(hook.url)}: ${delivery.event} ${delivery.id} not delivered: ${outcome.error}`, { tone: "bad" })],
    );
  }

  private require(id: string): StoredHook {
    const hook = this.hooks.get(id);
    if (!hook) throw new ToolError("INVALID_ARGS", `no webhook ${id} in town ${this.town.id}`);
    return hook;
  }

  private shown(hook: StoredHook): Webhook {
    const { secret: _secret, ...rest } = hook;
    return { ...rest, pending: this.town.outbox.count(deliveryPrefix(hook.id)) };
  }
}

/** The feed names a hook by its host only: a receiver's path may carry a token of its own. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "?";
  }
}

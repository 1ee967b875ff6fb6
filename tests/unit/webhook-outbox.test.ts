/**
 * The town's webhook deliveries over an in-memory storage and the real DurableOutbox
 * (party/town/webhook-tools.ts): the bound per hook (past it an event is dropped, counted and said
 * in the feed), what each answer of the receiver does to the delivery and the hook's status (2xx
 * delivered; other statuses and network errors retried by the hook's backoff; 410 turns it off),
 * the deadline, and the bodies and headers sent.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DurableOutbox } from "../../party/durable-outbox.ts";
import type { OutboxEntry } from "../../party/outbox.ts";
import type { FeedEvent } from "../../party/protocol.ts";
import type { Town } from "../../party/town/context.ts";
import { Webhooks, type WebhookDeliveryPayload } from "../../party/town/webhook-tools.ts";
import { WEBHOOKS, signature, type WebhookEvent } from "../../party/town/webhooks.ts";
import { FakeStorage } from "../helpers/fake-storage.ts";

const T0 = 1_700_000_000_000;
const HOOK = { id: "H1", url: "https://hooks.example.com/x", format: "json", createdAt: T0, dropped: 0, last: null, secret: "whsec_test" };
const event = (n: number): WebhookEvent => ({
  key: `rig/failed_bead/B${n}/${n}`,
  event: "bead_failed",
  rig: "alpha",
  bead: `B${n}`,
  title: `bead ${n}`,
  detail: "exit 4",
  at: n,
});

async function setup(hooks: Record<string, unknown>[] = [HOOK]) {
  const storage = new FakeStorage(Object.fromEntries(hooks.map((h) => [`webhook:${h.id}`, h])));
  const feed: FeedEvent[] = [];
  let webhooks!: Webhooks;
  const outbox = new DurableOutbox(
    storage,
    (entry) => webhooks.attempt(entry),
    (entry, outcome) => webhooks.settle(entry, outcome),
  );
  const town = {
    id: "acme",
    storage,
    outbox,
    records: {
      write: async (_changes: unknown[], events: FeedEvent[] = [], extra: { put?: Record<string, unknown>; delete?: string[] } = {}) => {
        if (extra.put && Object.keys(extra.put).length) {
          const entries = Object.entries(extra.put);
          for (let i = 0; i < entries.length; i += 128) await storage.put(Object.fromEntries(entries.slice(i, i + 128)));
        }
        if (extra.delete?.length) await storage.delete(extra.delete);
        feed.push(...events);
      },
    },
    feedEvent: (kind: string, text: string, about: Partial<FeedEvent> = {}): FeedEvent => ({ id: `f${feed.length}`, at: Date.now(), kind, text, ...about }),
  } as unknown as Town;
  webhooks = new Webhooks(town);
  await webhooks.load();
  await outbox.load();
  const record = async (events: WebhookEvent[]) => {
    const queued = await webhooks.queue(events);
    await town.records.write([], queued.events, { put: queued.put });
    await webhooks.queued(queued);
    return queued;
  };
  const hook = () => storage.data.get("webhook:H1") as typeof HOOK & Record<string, unknown>;
  return { storage, outbox, webhooks, feed, record, hook };
}

let replies: (Response | Error)[] = [];
const sent: { url: string; init: RequestInit }[] = [];

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
  replies = [];
  sent.length = 0;
  vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
    sent.push({ url, init });
    const next = replies.shift() ?? new Response(null, { status: 200 });
    if (next instanceof Error) throw next;
    return next;
  });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("webhook deliveries", () => {
  it("are stored with the event, sent signed with the stable id, and a repeat of the event while one waits adds nothing", async () => {
    const { storage, outbox, record, hook } = await setup();
    const first = await record([event(1)]);
    expect(first.entries).toHaveLength(1);
    const key = first.entries[0]!.key;
    expect(storage.data.has(`outbox:${key}`)).toBe(true); // in the same write as the event
    expect((await record([event(1)])).entries).toEqual([]); // still waiting: the same delivery
    await outbox.flush();
    expect(sent).toHaveLength(1);
    const { init } = sent[0]!;
    const headers = init.headers as Record<string, string>;
    const payload = (first.entries[0]!.payload as WebhookDeliveryPayload).id;
    expect(headers["x-townhall-delivery"]).toBe(payload);
    expect(headers["x-townhall-event"]).toBe("bead_failed");
    expect(headers["x-townhall-signature"]).toBe(await signature("whsec_test", Number(headers["x-townhall-timestamp"]), String(init.body)));
    expect(JSON.parse(String(init.body))).toEqual({
      id: payload,
      event: "bead_failed",
      town: "acme",
      rig: "alpha",
      bead: "B1",
      title: "bead 1",
      detail: "exit 4",
      at: 1,
    });
    expect(init.redirect).toBe("manual");
    expect(storage.data.has(`outbox:${key}`)).toBe(false);
    expect(hook().last).toMatchObject({ ok: true, id: payload, attempts: 1 });
  });

  it("retry a 500 and a network error by the hook's backoff, saying so in the hook's status, then deliver", async () => {
    const { outbox, record, hook } = await setup();
    const [entry] = (await record([event(2)])).entries;
    replies = [new Response(null, { status: 500 }), new TypeError("connection refused")];
    await outbox.flush();
    expect(hook().last).toMatchObject({ ok: false, error: "HTTP 500", attempts: 1 });
    expect(outbox.has(entry!.key)).toBe(true);
    vi.setSystemTime(T0 + 999);
    await outbox.flush();
    expect(sent).toHaveLength(1); // not due before 1 s
    vi.setSystemTime(T0 + 1000);
    await outbox.flush();
    expect(hook().last).toMatchObject({ ok: false, error: "connection refused", attempts: 2 });
    vi.setSystemTime(T0 + 1000 + 2000);
    await outbox.flush();
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((s) => s.init.body)).size).toBe(1); // the same bytes each time
    expect(hook().last).toMatchObject({ ok: true, attempts: 3 });
    expect(hook().lastOkAt).toBe(T0 + 3000);
    expect(outbox.has(entry!.key)).toBe(false);
  });

  it("a receiver that just failed gets one request per backoff, not one per waiting delivery; once it answers, the rest go at once", async () => {
    const { outbox, record } = await setup();
    replies = [new Response(null, { status: 503 })];
    await record([event(10), event(11), event(12)]);
    await outbox.flush();
    expect(sent).toHaveLength(1);
    expect(outbox.count("webhook:H1:")).toBe(3);
    vi.setSystemTime(T0 + 1000);
    await outbox.flush();
    expect(sent).toHaveLength(4); // the first answered 200: the others followed in the same pass
    expect(outbox.count("webhook:H1:")).toBe(0);
  });

  it("410 Gone turns the hook off: no more events for it, one feed line", async () => {
    const { outbox, record, hook, feed } = await setup();
    replies = [new Response(null, { status: 410 })];
    await record([event(3)]);
    await outbox.flush();
    expect(hook()).toMatchObject({ disabledAt: T0, disabledWhy: "its receiver answered 410 Gone" });
    expect(feed.map((f) => f.text)).toEqual([expect.stringMatching(/^webhook hooks\.example\.com: bead_failed evt_\w+ not delivered: 410 Gone/)]);
    expect((await record([event(4)])).entries).toEqual([]);
  });

  it("a delivery still failing a day after its event is dropped, counted, with a feed line", async () => {
    const { outbox, record, hook, feed } = await setup();
    const [entry] = (await record([event(5)])).entries;
    replies = [new Response(null, { status: 503 })];
    vi.setSystemTime(T0 + WEBHOOKS.deadlineMs);
    await outbox.flush();
    expect(outbox.has(entry!.key)).toBe(false);
    expect(hook().dropped).toBe(1);
    expect(feed.at(-1)).toMatchObject({
      kind: "webhook",
      tone: "bad",
      text: expect.stringMatching(/still failing \(HTTP 503\) a day after the event: dropped$/),
    });
  });

  it("hold at most WEBHOOKS.maxPending per hook: past it a new event is dropped for that hook (counted, said in the feed), not for others", async () => {
    const other = { ...HOOK, id: "H2", url: "https://other.example.com/y" };
    const { outbox, record, hook, feed } = await setup([HOOK, other]);
    replies = Array.from({ length: 1000 }, () => new Response(null, { status: 500 }));
    const full = Array.from({ length: WEBHOOKS.maxPending }, (_, i) => event(100 + i));
    await record(full);
    expect(outbox.count("webhook:H1:")).toBe(WEBHOOKS.maxPending);
    // H2's receiver recovers, H1's does not.
    await outbox.dropAll("webhook:H2:");
    const past = await record([event(999)]);
    expect(past.entries.map((e: OutboxEntry) => e.key.split(":")[1])).toEqual(["H2"]);
    expect(hook().dropped).toBe(1);
    expect(outbox.count("webhook:H1:")).toBe(WEBHOOKS.maxPending);
    expect(feed.at(-1)).toMatchObject({ tone: "bad", text: `webhook hooks.example.com: 1 event dropped, ${WEBHOOKS.maxPending} deliveries already waiting` });
  });
});

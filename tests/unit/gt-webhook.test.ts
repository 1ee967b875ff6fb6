/**
 * `gt webhook add|list|remove|test` (container/gt/webhook.ts) against a fake town room: the request
 * each sends (tool, room, arguments), what it prints (the secret once, each hook's true status),
 * and its usage errors.
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../container/gt/program.ts";
import type { Webhook, WebhookAddResult } from "../../party/protocol.ts";

let server: Server;
let host: string;
let reply: unknown = null;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      requests.push(`${req.method} ${req.url} ${Buffer.concat(chunks).toString("utf8")}`);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, value: reply }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  host = `127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function gt(argv: string[], value: unknown) {
  const saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (k.startsWith("GT_")) delete process.env[k];
  Object.assign(process.env, { GT_HOST: host, GT_TOWN: "town1", GT_TOKEN: "operator-token" });
  reply = value;
  requests.length = 0;
  try {
    const outcome = await run(argv);
    return { ...outcome, requests: [...requests] };
  } finally {
    for (const k of Object.keys(process.env)) if (k.startsWith("GT_")) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

const hook: Webhook = {
  id: "01J00000000000000000000HK1",
  url: "https://hooks.example.com/t",
  format: "json",
  createdAt: Date.UTC(2026, 11, 8),
  pending: 0,
  dropped: 0,
  last: null,
};

describe("gt webhook", () => {
  it("add sends the URL and format to the town and prints the secret once", async () => {
    const added: WebhookAddResult = { ...hook, secret: "whsec_abc" };
    const out = await gt(["webhook", "add", "https://hooks.example.com/t", "--format", "json"], added);
    expect(out.code).toBe(0);
    expect(out.requests).toEqual([`POST /parties/main/town1/api/gt_webhook_add {"url":"https://hooks.example.com/t","format":"json"}`]);
    expect(out.stdout).toContain(`webhook ${hook.id} added (json): https://hooks.example.com/t`);
    expect(out.stdout).toContain("secret: whsec_abc");
    expect(out.stdout).toMatch(/shown this once/);
  });

  it("add refuses an unknown format before calling", async () => {
    const out = await gt(["webhook", "add", "https://x.example", "--format", "xml"], null);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/--format is slack or json, not xml/);
    expect(out.requests).toEqual([]);
  });

  it("list says each hook's status truly: none yet, ok, failing with the error, off", async () => {
    const at = Date.UTC(2026, 11, 8, 5, 0, 0);
    const hooks: Webhook[] = [
      hook,
      { ...hook, id: "H2", last: { ok: true, at, event: "bead_failed", id: "evt_1", attempts: 1 } },
      { ...hook, id: "H3", pending: 3, last: { ok: false, at, event: "test", id: "evt_2", error: "HTTP 503", attempts: 4 }, lastOkAt: at - 60_000 },
      {
        ...hook,
        id: "H4",
        disabledAt: at,
        disabledWhy: "its receiver answered 410 Gone",
        dropped: 1,
        last: { ok: false, at, event: "test", id: "evt_3", error: "HTTP 410", attempts: 1 },
      },
    ];
    const out = await gt(["webhook", "list"], hooks);
    expect(out.requests).toEqual([`POST /parties/main/town1/api/gt_webhook_list {}`]);
    const text = out.stdout!;
    expect(text).toContain(`${hook.id}  json  https://hooks.example.com/t\n  no delivery yet`);
    expect(text).toContain("H2  json  https://hooks.example.com/t\n  last delivery ok 2026-12-08T05:00:00.000Z");
    expect(text).toContain("failing: HTTP 503 (2026-12-08T05:00:00.000Z, attempt 4; last ok 2026-12-08T04:59:00.000Z); 3 waiting");
    expect(text).toContain("off since 2026-12-08T05:00:00.000Z: its receiver answered 410 Gone; 1 dropped");
    expect((await gt(["webhook", "list"], [])).stdout).toBe("no webhooks (gt webhook add <url>)");
  });

  it("remove and test name the hook", async () => {
    expect((await gt(["webhook", "remove", "H2"], { removed: "H2" })).requests).toEqual([`POST /parties/main/town1/api/gt_webhook_remove {"id":"H2"}`]);
    const test = await gt(["webhook", "test", "H2"], { id: "evt_9", hook: "H2" });
    expect(test.requests).toEqual([`POST /parties/main/town1/api/gt_webhook_test {"id":"H2"}`]);
    expect(test.stdout).toBe("test delivery evt_9 queued for webhook H2: see gt webhook list");
  });
});

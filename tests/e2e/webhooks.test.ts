/**
 * The Webhooks panel in Chromium on real `partykit dev`, with a real local receiver: a town-wide
 * operator adds a hook and sees its secret once; a test delivery to a failing receiver shows as
 * failing with its error, and once the receiver answers, as delivered; the receiver checks the
 * signature with the secret the panel showed. A rig-scoped operator has no Webhooks button.
 */
import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort } from "../helpers/partykit.ts";
import { harness, live } from "./harness.ts";

const h = harness();

type Got = { id: string; event: string; verified: (secret: string) => boolean };
let server: Server;
let port: number;
let answer = 500;
const got: Got[] = [];

beforeAll(async () => {
  port = await freePort();
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const timestamp = String(req.headers["x-townhall-timestamp"]);
      const signature = String(req.headers["x-townhall-signature"]);
      got.push({
        id: String(req.headers["x-townhall-delivery"]),
        event: String(req.headers["x-townhall-event"]),
        verified: (secret) => signature === `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`,
      });
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it("adds a webhook from the dashboard, shows its secret once, and says truly how a test delivery went", async () => {
  const t = await h.town("hooks");
  const p = await h.page(t.url());
  await live(p);
  await p.locator("[data-testid=webhooks]").click();
  const dialog = p.locator("[data-testid=webhooks-dialog]");
  await dialog.locator("[data-testid=webhooks-empty]").waitFor();
  expect(await dialog.locator("[data-testid=webhooks-empty]").innerText()).toBe("No webhooks yet: nothing is sent anywhere.");

  // Bad input: the town's own words, nothing added.
  await dialog.locator("[data-testid=webhook-url]").fill("ftp://example.com/hook");
  await dialog.locator("[data-testid=action-submit]").click();
  await dialog.locator("[data-testid=action-error]", { hasText: "url: must be http or https, not ftp" }).waitFor();
  expect(await dialog.locator("[data-testid=webhooks-empty]").count()).toBe(1);

  const url = `http://127.0.0.1:${port}/townhall`;
  await dialog.locator("[data-testid=webhook-url]").fill(url);
  await dialog.locator("[data-testid=webhook-format]").selectOption("json");
  await dialog.locator("[data-testid=action-submit]").click();
  const secretBox = dialog.locator("[data-testid=webhook-secret]");
  await secretBox.waitFor();
  const secret = await secretBox.inputValue();
  expect(secret).toMatch(/^whsec_[0-9a-f]{64}$/);
  const row = dialog.locator("[data-testid=webhook]");
  await row.waitFor();
  expect(await row.innerText()).toContain(url);
  expect(await row.locator("[data-testid=webhook-status]").innerText()).toBe("No delivery yet");

  // Shown once: closed and opened again, the secret is nowhere on the page.
  await dialog.locator("button", { hasText: "Close" }).click();
  await dialog.waitFor({ state: "hidden" });
  await p.locator("[data-testid=webhooks]").click();
  await row.waitFor();
  expect(await dialog.locator("[data-testid=webhook-secret]").count()).toBe(0);
  expect(await p.content()).not.toContain(secret);

  // A test delivery to a receiver answering 500: failing, with the error; then the receiver answers
  // 200 and the retry is delivered.
  await row.locator("[data-testid=webhook-test]").click();
  await row.locator("[data-testid=webhook-status][data-tone=bad]", { hasText: /^Failing: HTTP 500 at .* \(attempt \d+; none delivered yet\)/ }).waitFor();
  expect(await row.locator("[data-testid=webhook-tested]").innerText()).toMatch(/^Test delivery evt_\w+ failed; it is tried again\.$/);
  answer = 200;
  await row.locator("[data-testid=webhook-status][data-tone=ok]", { hasText: /^Last delivery ok, / }).waitFor({ timeout: 30_000 });
  await row.locator("[data-testid=webhook-tested]", { hasText: "delivered." }).waitFor();
  const tests = got.filter((g) => g.event === "test");
  expect(tests.length).toBeGreaterThanOrEqual(2);
  expect(new Set(tests.map((g) => g.id)).size).toBe(1); // every attempt, the same delivery id
  expect(tests.every((g) => g.verified(secret))).toBe(true);
  const shownId = (await row.locator("[data-testid=webhook-tested]").innerText()).match(/evt_\w+/)![0];
  expect(tests[0]!.id).toBe(shownId);

  // Removed with the app's own confirmation.
  await row.locator("[data-testid=webhook-remove]").click();
  await row.locator("[data-testid=webhook-remove-confirm]").click();
  await dialog.locator("[data-testid=webhooks-empty]").waitFor();

  // A rig-scoped operator sees no Webhooks button (the town refuses it the tools too).
  const rig = await t.addRig("alpha");
  const scoped = await t.token({ role: "operator", rig: rig.id });
  const q = await h.page(t.url("/rigs/alpha", scoped));
  await live(q, 2);
  expect(await q.locator("[data-testid=webhooks]").count()).toBe(0);
});

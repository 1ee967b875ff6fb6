/**
 * The dashboard in Chromium against real `partykit dev`: live updates with no reload, routes and
 * history, viewer links, operator actions, attention-first ordering, convoys across rigs.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { LIMITS, type Bead, type ConvoyProgress } from "../../party/protocol.ts";
import { launch, open, type Opened } from "./browser.ts";
import { e2eTown, workingAgent, type E2ETown } from "./fixtures.ts";

const host = inject("e2eHost");
const secret = inject("e2eSecret");
let browser: Browser;
const opened: Opened[] = [];
const towns: E2ETown[] = [];

beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  for (const o of opened.splice(0)) {
    expect(o.errors, "errors thrown in the page").toEqual([]);
    await o.context.close();
  }
  for (const t of towns.splice(0)) t.closeAll();
});

async function town(prefix: string): Promise<E2ETown> {
  const t = await e2eTown(host, secret, prefix);
  towns.push(t);
  return t;
}

async function page(url: string, options?: Parameters<typeof open>[2]): Promise<Page> {
  const o = await open(browser, url, options);
  opened.push(o);
  return o.page;
}

/** Waits for the page's town (and rig, on rig views) data to be live. */
async function live(p: Page, count = 1): Promise<void> {
  await p
    .locator("[data-testid=sync-status][data-status=live]")
    .nth(count - 1)
    .waitFor();
}

describe("live updates", () => {
  it("a change made by an agent's tool call appears in an open overview and an open rig view, with no reload", async () => {
    const t = await town("live");
    const rig = await t.readyRig("alpha");
    await t.readyRig("beta");
    const toast = await t.polecat(rig, "toast");
    const overview = await page(t.url());
    const rigView = await page(t.url("/rigs/alpha"));
    await overview.locator("[data-testid=rig-card][data-rig=alpha]").waitFor();
    await rigView.locator('[data-testid=agent-row][data-agent="alpha/polecats/toast"]').waitFor();
    // A marker on window survives only if the page is never reloaded.
    for (const p of [overview, rigView]) await p.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

    await t.rigCall(rig, "gt_escalate", { title: "Tests need a database", severity: "high" }, toast.token);
    await t.rigCall(rig, "gt_mail_send", { to: "beta/witness", subject: "Schema question from toast", body: "Which table?" }, toast.token);

    await overview.locator("[data-testid=rig-card][data-rig=alpha] [data-testid=rig-alerts]", { hasText: "1 escalation" }).waitFor();
    await rigView.locator("[data-testid=escalation]", { hasText: "Tests need a database" }).waitFor();
    await rigView.locator("[data-testid=mail-subject]", { hasText: "Schema question from toast" }).waitFor();
    // Needing attention now, alpha is first even though it was first alphabetically anyway: check the badge count too.
    await overview.locator("[data-testid=rig-card][data-rig=alpha][data-attention=yes]").waitFor();
    for (const p of [overview, rigView]) expect(await p.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
  });

  it("the overview puts a rig with a stalled agent first", async () => {
    const t = await town("stall");
    await t.readyRig("aardvark");
    await t.readyRig("badger");
    const zebra = await t.readyRig("zebra");
    const overview = await page(t.url());
    await overview.locator("[data-testid=rig-card]").nth(2).waitFor();
    expect(await overview.locator("[data-testid=rig-card]").evaluateAll((els) => els.map((e) => e.getAttribute("data-rig")))).toEqual([
      "aardvark",
      "badger",
      "zebra",
    ]);

    const { start } = await workingAgent(t, zebra); // no heartbeats: the witness marks it stalled
    await overview.locator("[data-testid=rig-card][data-rig=zebra] [data-testid=agents-stalled]", { hasText: "1" }).waitFor();
    expect(await overview.locator("[data-testid=rig-card]").first().getAttribute("data-rig")).toBe("zebra");
    expect(await overview.locator("[data-testid=rig-card]").first().getAttribute("data-attention")).toBe("yes");
    // The rig view shows the same agent as stalled, with its hook.
    const rigView = await page(t.url("/rigs/zebra"));
    await rigView
      .locator(
        `[data-testid=agent-row][data-agent="${start.identity}"][data-status=stalled], [data-testid=agent-row][data-agent="${start.identity}"][data-status=dead]`,
      )
      .waitFor();
  });
});

describe("live status", () => {
  it("when the connection drops, views say reconnecting and stale since when, and go live again", async () => {
    const t = await town("stale");
    await t.readyRig("alpha");
    const o = await open(browser, "about:blank");
    opened.push(o);
    // Keep a handle on the page's sockets, so the test can cut them as a network failure would.
    await o.page.addInitScript(() => {
      const sockets: WebSocket[] = ((window as unknown as { sockets: WebSocket[] }).sockets = []);
      const Native = window.WebSocket;
      window.WebSocket = class extends Native {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          sockets.push(this);
        }
      } as typeof WebSocket;
    });
    await o.page.goto(t.url("/rigs/alpha"));
    await live(o.page, 2);
    // Offline, so reconnecting cannot succeed until the test allows it; then cut the open sockets.
    await o.context.setOffline(true);
    // A synthetic abnormal close reaches the client at once (a real close waits for the handshake).
    await o.page.evaluate(() =>
      (window as unknown as { sockets: WebSocket[] }).sockets.forEach((s) => {
        s.dispatchEvent(new CloseEvent("close", { code: 1006, reason: "cut by the test" }));
        s.close();
      }),
    );
    await o.page.locator("[data-testid=sync-status][data-status=reconnecting]", { hasText: "stale since" }).nth(1).waitFor();
    await o.context.setOffline(false);
    await live(o.page, 2);
    expect(await o.page.locator("[data-testid=sync-status]:not([data-status=live])").count()).toBe(0);
  });
});

describe("routes", () => {
  it("every route opens directly from its URL, and back/forward work", async () => {
    const t = await town("routes");
    const alpha = await t.readyRig("alpha");
    await t.readyRig("beta");
    await t.polecat(alpha, "maple");
    // Invisible characters in a title and a subject are shown written out (web/src/lib/shown-text.ts).
    const bead = await t.rigCall<Bead>(alpha, "gt_bead_create", { title: "Write the changelog \u2066v1.2\u2069", body: "For 1.2" });
    const convoy = await t.townCall<ConvoyProgress>("gt_convoy_create", {
      title: "Release 1.2",
      beads: [
        { title: "Tag it", rig: "alpha" },
        { title: "Announce it", rig: "beta" },
      ],
    });
    await t.townCall("gt_mail_send", { to: "mayor", subject: "Ready for 1.2?\u200b", body: "" });

    const direct: [string, string, string][] = [
      ["", "[data-testid=rig-card][data-rig=beta]", "overview"],
      ["/rigs/alpha", `[data-testid=bead-card][data-bead="${bead.id}"]`, "rig board"],
      [`/rigs/alpha/beads/${bead.id}`, "[data-testid=bead-title]:has-text('Write the changelog ⟨U+2066⟩v1.2⟨U+2069⟩')", "bead detail"],
      ["/rigs/alpha/agents/maple", "[data-testid=agent-detail]", "agent detail"],
      [`/convoys/${convoy.id}`, "[data-testid=convoy-title]:has-text('Release 1.2')", "convoy"],
      ["/mail", "[data-testid=mail-subject]:has-text('Ready for 1.2?⟨U+200B⟩')", "town mail"],
    ];
    for (const [path, selector, what] of direct) {
      const p = await page(t.url(path));
      await p
        .locator(selector)
        .first()
        .waitFor({ timeout: 10_000 })
        .catch((e: Error) => {
          throw new Error(`${what} (${path}) did not show ${selector}: ${e.message}`);
        });
    }

    // In-app navigation, then history: links carry no token, the tab keeps it.
    const p = await page(t.url());
    await p.locator("[data-testid=rig-card][data-rig=alpha] a").click();
    await p.locator("[data-testid=rig-title]", { hasText: "alpha" }).waitFor();
    await p.locator(`[data-testid=bead-card][data-bead="${bead.id}"]`).click();
    await p.locator("[data-testid=bead-detail]").waitFor();
    expect(new URL(p.url()).pathname).toBe(`/t/${t.town}/rigs/alpha/beads/${bead.id}`);
    await p.goBack();
    await p.locator("[data-testid=rig-title]", { hasText: "alpha" }).waitFor();
    expect(new URL(p.url()).pathname).toBe(`/t/${t.town}/rigs/alpha`);
    await p.goBack();
    await p.locator("[data-testid=rig-list]").waitFor();
    expect(new URL(p.url()).pathname).toBe(`/t/${t.town}`);
    await p.goForward();
    await p.locator("[data-testid=rig-title]", { hasText: "alpha" }).waitFor();
    await p.goForward();
    await p.locator("[data-testid=bead-title]", { hasText: "Write the changelog" }).waitFor();
    // A reload of an in-app URL (no token in it) still works in this tab.
    await p.reload();
    await p.locator("[data-testid=bead-title]", { hasText: "Write the changelog" }).waitFor();
  });

  it("keyboard: g m, g o and / move around without a mouse; t switches the theme", async () => {
    const t = await town("keys");
    await t.readyRig("alpha");
    const p = await page(t.url());
    await p.locator("[data-testid=rig-card][data-rig=alpha]").waitFor();
    await p.keyboard.press("g");
    await p.keyboard.press("m");
    await p.locator("[data-testid=town-mail-panel]").waitFor();
    await p.keyboard.press("g");
    await p.keyboard.press("o");
    await p.locator("[data-testid=rig-list]").waitFor();
    // "/" opens the town's search (it finds rigs too), focused; Esc closes it.
    await p.keyboard.press("/");
    await p.locator("[data-testid=search-input]").waitFor();
    await p.waitForFunction(() => document.activeElement?.getAttribute("data-testid") === "search-input");
    await p.keyboard.press("Escape");
    await p.locator("[data-testid=search-input]").waitFor({ state: "detached" });
    await p.locator("body").click({ position: { x: 5, y: 300 } });
    const dark = await p.evaluate(() => document.documentElement.classList.contains("dark"));
    await p.keyboard.press("t");
    expect(await p.evaluate(() => document.documentElement.classList.contains("dark"))).toBe(!dark);
  });

  it("an unknown rig, bead or a missing token is explained in words", async () => {
    const t = await town("missing");
    await t.readyRig("alpha");
    const noRig = await page(t.url("/rigs/nope"));
    await noRig.getByText("This town has no rig named “nope”.").waitFor();
    const noBead = await page(t.url("/rigs/alpha/beads/01J0000000000000000000000X"));
    await noBead.getByText("This rig has no such bead.").waitFor();
    const noToken = await page(`http://${host}/t/${t.town}`);
    await noToken.getByText("This view needs a token").waitFor();
    const bad = await page(`http://${host}/t/${t.town}?token=forged.token`);
    await bad.getByText(/token is missing, invalid, expired or revoked/).waitFor();
  });
});

describe("share", () => {
  it("a viewer link shows its view with no action controls", async () => {
    const t = await town("share");
    await t.readyRig("alpha");
    const operator = await page(t.url("/rigs/alpha"));
    await operator.locator("[data-testid=operator-actions]").waitFor();
    await operator.locator("[data-testid=share]").click();
    // It says how many pages one link may have open (a team shares one link; the rooms cap it).
    expect(await operator.locator("[data-testid=share-cap]").textContent()).toContain(`Up to ${LIMITS.socketsPerLink} pages can be open on one link at once`);
    // It says what the link shows: this rig only.
    expect(await operator.locator("[data-testid=share-shows]").textContent()).toContain("rig alpha only");
    await operator.locator("[data-testid=share-dialog] [data-testid=action-submit]").click();
    const url = await operator.locator("[data-testid=share-url]").inputValue();
    expect(url).toMatch(new RegExp(`^http://${host.replace(/\./g, "\\.")}/t/${t.town}/rigs/alpha\\?token=`));

    const viewer = await page(url);
    await viewer.locator("[data-testid=rig-title]", { hasText: "alpha" }).waitFor();
    await live(viewer, 2); // the header's badge and the rig's: one rig document, the link's only one
    await viewer.locator("[data-testid=read-only]").waitFor();
    expect(await viewer.locator("[data-testid=operator-actions], [data-testid=share], [data-testid=open-sling]").count()).toBe(0);
    // A rig's link reads no part of the town: its overview's address says what the link shows.
    expect(await viewer.locator("nav[aria-label=Town] a", { hasText: "Overview" }).count()).toBe(0);
    await viewer.goto(`http://${host}/t/${t.town}`);
    await viewer.locator("[data-testid=not-in-reach]", { hasText: "This link shows rig alpha only" }).waitFor();
    expect(await viewer.locator("[data-testid=rig-card], [data-testid=operator-actions], [data-testid=share], button:has-text('Add rig')").count()).toBe(0);
  });

  it("the share dialog lists the town's links and revokes one: its open page goes dark at once", async () => {
    const t = await town("revoke");
    await t.readyRig("alpha");
    const operator = await page(t.url("/rigs/alpha"));
    await operator.locator("[data-testid=share]").click();
    await operator.locator("[data-testid=share-dialog] [data-testid=action-submit]").click();
    const url = await operator.locator("[data-testid=share-url]").inputValue();
    const row = operator.locator("[data-testid=share-link]", { hasText: "/rigs/alpha" });
    await row.waitFor();
    const viewer = await page(url);
    await viewer.locator("[data-testid=rig-title]", { hasText: "alpha" }).waitFor();
    await row.locator("[data-testid=share-revoke]").click();
    await operator.locator("[data-testid=confirm-revoke][open] [data-testid=action-submit]").click(); // the app's own confirmation
    await row.getByText("revoked").waitFor();
    await viewer.getByText(/token is missing, invalid, expired or revoked/).waitFor();
  });
});

describe("operator actions", () => {
  it("add a rig, sling (automatic, chosen, no eligible rig), create a convoy, send mail, remove a rig", async () => {
    const t = await town("ops");
    await t.readyRig("alpha", { capabilities: ["ts"] });
    const p = await page(t.url());
    await p.locator("[data-testid=rig-card][data-rig=alpha]").waitFor();

    // Add a rig through the form; it appears live, then the stand-in container reports it ready.
    await p.locator("[data-testid=open-add-rig]").click();
    const add = p.locator("[data-testid=add-rig-dialog]");
    await add.locator("input[name=name]").fill("docs");
    await add.locator("input[name=git_url]").fill("/tmp/docs.git");
    await add.locator("input[name=capabilities]").fill("docs, md");
    await add.locator("[data-testid=action-submit]").click();
    await p.locator("[data-testid=rig-card][data-rig=docs]").waitFor();
    const docs = (await t.townCall<{ name: string; id: string }[]>("gt_list_rigs")).find((r) => r.name === "docs")!;
    expect(docs).toBeTruthy();
    await t.markReady(docs as never);
    // The town learns of the clone through the rig's (debounced) summary: wait to see it ready.
    await p.locator("[data-testid=rig-card][data-rig=docs] [data-status=ready]").waitFor();

    // Sling automatically: the Mayor's choice and reason are shown.
    await p.locator("[data-testid=open-sling]").click();
    const sling = p.locator("[data-testid=sling-dialog]");
    await sling.locator("input[name=title]").fill("Document the API");
    await sling.locator("input[name=requires]").fill("docs");
    await sling.locator("[data-testid=action-submit]").click();
    await sling.locator("[data-testid=sling-result][data-rig=docs]").waitFor();
    expect(await sling.locator("[data-testid=sling-reason]").innerText()).toMatch(/docs/);
    // To a chosen rig.
    await sling.locator("input[name=title]").fill("Fix the login form");
    await sling.locator("input[name=requires]").fill("");
    await sling.locator("select[name=rig]").selectOption("alpha");
    await sling.locator("[data-testid=action-submit]").click();
    await sling.locator("[data-testid=sling-result][data-rig=alpha]").waitFor();
    // No rig can take it: the server's reason, naming each rig, is shown.
    await sling.locator("input[name=title]").fill("Port to Rust");
    await sling.locator("select[name=rig]").selectOption("");
    await sling.locator("input[name=requires]").fill("rust");
    await sling.locator("[data-testid=action-submit]").click();
    const refusal = await sling.locator("[data-testid=action-error]").innerText();
    expect(refusal).toMatch(/No rig can take this/);
    expect(refusal).toMatch(/alpha/);
    expect(refusal).toMatch(/docs/);
    await sling.getByRole("button", { name: "Cancel" }).click();
    await p.locator("[data-testid=rig-card][data-rig=docs] [data-testid=bead-total]", { hasText: "1" }).waitFor();

    // A convoy over both rigs: the form opens the convoy view.
    await p.locator("[data-testid=open-convoy]").click();
    const convoy = p.locator("[data-testid=convoy-dialog]");
    await convoy.locator("input[name=title]").fill("Launch week");
    await convoy.locator("input[name=bead-0-title]").fill("Landing page");
    await convoy.locator("[data-testid=convoy-bead-row]").nth(0).locator("select").selectOption("alpha");
    await convoy.locator("input[name=bead-1-title]").fill("Launch post");
    await convoy.locator("[data-testid=convoy-bead-row]").nth(1).locator("select").selectOption("docs");
    await convoy.locator("[data-testid=action-submit]").click();
    await p.locator("[data-testid=convoy-title]", { hasText: "Launch week" }).waitFor();
    expect(await p.locator("[data-testid=convoy-rig-name]").allInnerTexts()).toEqual(["alpha", "docs"]);

    // Mail as operator, seen in the town mail view.
    await p.locator("nav[aria-label=Town] a", { hasText: "Mail" }).click();
    await p.locator("[data-testid=send-mail]").click();
    const mail = p.locator("[data-testid=mail-dialog]");
    await mail.locator("input[name=to]").fill("mayor");
    await mail.locator("input[name=subject]").fill("Please plan next week");
    await mail.locator("textarea[name=body]").fill("Thanks");
    await mail.locator("[data-testid=action-submit]").click();
    await mail.locator("[data-testid=mail-result]").waitFor();
    await mail.getByRole("button", { name: "Close" }).click();
    await p.locator("[data-testid=town-mail-panel] [data-testid=mail-subject]", { hasText: "Please plan next week" }).waitFor();
    await p.locator("[data-testid=unread-row][data-agent=mayor]").waitFor();

    // Remove a rig from its page; back on the overview it is gone.
    await p.locator("[data-testid=rig-selector]").selectOption("docs");
    await p.locator("[data-testid=rig-title]", { hasText: "docs" }).waitFor();
    await p.locator("[data-testid=open-remove-rig]").click();
    const remove = p.locator("[data-testid=remove-rig-dialog]");
    await remove.locator("input[name=confirm]").fill("docs");
    await remove.locator("[data-testid=action-submit]").click();
    await p.locator("[data-testid=rig-card][data-rig=alpha]").waitFor();
    await p.locator("[data-testid=rig-card][data-rig=docs]").waitFor({ state: "detached" });
    expect(new URL(p.url()).pathname).toBe(`/t/${t.town}`);
  });
});

describe("convoys", () => {
  it("a convoy over 3 rigs shows per-rig progress and the Mayor's reasons", async () => {
    const t = await town("convoy");
    const a = await t.readyRig("apple");
    await t.readyRig("banana");
    await t.readyRig("cherry");
    const convoy = await t.townCall<ConvoyProgress>("gt_convoy_create", {
      title: "Fruit salad",
      beads: [
        { title: "Peel apples", rig: "apple" },
        { title: "Core apples", rig: "apple" },
        { title: "Slice bananas", rig: "banana" },
        { title: "Pit cherries", rig: "cherry" },
      ],
    });
    const p = await page(t.url(`/convoys/${convoy.id}`));
    await p.locator("[data-testid=convoy-rig]").nth(2).waitFor();
    const progress = () => p.locator("[data-testid=convoy-rig-progress]").allInnerTexts();
    expect(await p.locator("[data-testid=convoy-rig-name]").allInnerTexts()).toEqual(["apple", "banana", "cherry"]);
    expect(await progress()).toEqual(["0/2", "0/1", "0/1"]);
    expect(await p.locator("[data-testid=convoy-reason]").count()).toBe(4);
    for (const reason of await p.locator("[data-testid=convoy-reason]").allInnerTexts()) expect(reason).toMatch(/^Mayor: \S/);

    // One apple bead closes in its rig: the rig tells the town, the open view moves.
    const peel = convoy.beads.find((b) => b.title === "Peel apples")!;
    await t.rigCall(a, "gt_bead_update", { bead_id: peel.beadId, status: "closed" });
    await p.locator("[data-testid=convoy-rig-progress]", { hasText: "1/2" }).waitFor();
    expect(await progress()).toEqual(["1/2", "0/1", "0/1"]);
    expect(await p.locator("[data-testid=convoy-summary] [data-testid=convoy-progress]").innerText()).toBe("1/4 done");
  });
});

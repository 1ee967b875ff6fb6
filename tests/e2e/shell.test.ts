/**
 * The dashboard's shell in Chromium against real `partykit dev`: where tokens are kept (per browser
 * for an operator, per tab for a link) and that they leave the address bar, who you are and signing
 * out, phones at 360 px, tab titles, the favicon, the shortcut hint, compact rows and the feed's
 * filters.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { Bead, ConvoyProgress, ShareResult } from "../../party/protocol.ts";
import { launch } from "./browser.ts";
import { e2eTown, workingAgent, type E2ETown } from "./fixtures.ts";

const host = inject("e2eHost");
const secret = inject("e2eSecret");
let browser: Browser;
const contexts: { context: BrowserContext; errors: string[] }[] = [];
const towns: E2ETown[] = [];

beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  for (const c of contexts.splice(0)) {
    expect(c.errors, "errors thrown in the page").toEqual([]);
    await c.context.close();
  }
  for (const t of towns.splice(0)) t.closeAll();
});

async function town(prefix: string): Promise<E2ETown> {
  const t = await e2eTown(host, secret, prefix);
  towns.push(t);
  return t;
}

/** A fresh browser profile (its own localStorage), as a person's browser would be. */
async function profile(options: { width?: number; height?: number } = {}) {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: options.height ?? 860 } });
  const entry = { context, errors: [] as string[] };
  contexts.push(entry);
  /** A new tab of this browser at `url`. */
  const tab = async (url: string): Promise<Page> => {
    const page = await context.newPage();
    page.on("pageerror", (e) => entry.errors.push(e.message));
    await page.goto(url);
    return page;
  };
  return { context, tab };
}

const live = (p: Page, n = 1) =>
  p
    .locator("[data-testid=sync-status][data-status=live]")
    .nth(n - 1)
    .waitFor();
const storage = (p: Page, area: "localStorage" | "sessionStorage", key: string) => p.evaluate(([a, k]) => window[a as "localStorage"].getItem(k!), [area, key]);

describe("tokens in the browser", () => {
  it("an operator's token leaves the address bar, is kept for the browser, and a new tab opens signed in", async () => {
    const t = await town("keep");
    await t.readyRig("alpha");
    const browserA = await profile();
    const first = await browserA.tab(t.url());
    await first.locator("[data-testid=rig-card][data-rig=alpha]").waitFor();
    expect(new URL(first.url()).search, "no token in the address").toBe("");
    expect(await storage(first, "localStorage", `townhall.token.${t.town}`)).toBe(t.operator);
    expect(await storage(first, "sessionStorage", `townhall.link.${t.town}`)).toBeNull();
    // The history entry itself was rewritten: going back to it after an in-app step shows no token.
    await first.locator("[data-testid=rig-card][data-rig=alpha] a").click();
    await first.locator("[data-testid=rig-title]", { hasText: "alpha" }).waitFor();
    await first.goBack();
    await first.locator("[data-testid=rig-list]").waitFor();
    expect(first.url()).not.toContain("token");

    // A new tab (and a bookmark without a token) opens signed in, as an operator.
    const second = await browserA.tab(`http://${host}/t/${t.town}/rigs/alpha`);
    await second.locator("[data-testid=rig-title]", { hasText: "alpha" }).waitFor();
    await second.locator("[data-testid=whoami][data-role=operator]").waitFor();
    await second.locator("[data-testid=operator-actions]").waitFor();
    expect(await second.locator("[data-testid=whoami]").innerText()).toMatch(/Operator/);
  });

  it("the header says who you are and when the token expires; sign out forgets it in this browser", async () => {
    const t = await town("signout");
    await t.readyRig("alpha");
    const b = await profile();
    const p = await b.tab(t.url());
    await live(p);
    await p.locator("[data-testid=whoami]").click();
    const panel = p.locator("[data-testid=whoami-panel]");
    await panel.waitFor();
    expect(await panel.locator("[data-testid=whoami-what]").innerText()).toBe(`of town ${t.town}`);
    expect(await panel.locator("[data-testid=session-expiry]").innerText()).toMatch(/^Expires in (59 min|60 min|1 h) \(/); // a 1-hour token, read within its first minute
    expect(await panel.locator("[data-testid=session-kept]").innerText()).toMatch(/Kept in this browser/);
    await panel.locator("[data-testid=sign-out]").click();
    await p.locator("[data-testid=signed-out]").waitFor();
    expect(await storage(p, "localStorage", `townhall.token.${t.town}`)).toBeNull();
    // Signed out for every tab of this browser: a new one asks for a token.
    const next = await b.tab(`http://${host}/t/${t.town}`);
    await next.getByText("This view needs a token").waitFor();
  });

  it("a share link stays in its tab: it never replaces the operator's token, and opens in a fresh browser", async () => {
    const t = await town("link");
    await t.readyRig("alpha");
    const link = await t.townCall<ShareResult>("gt_share", { path: `/t/${t.town}/rigs/alpha`, ttl_s: 3600 });
    const linkUrl = `http://${host}${link.path}`;
    expect(linkUrl).toContain("?token=");

    const b = await profile();
    const operatorTab = await b.tab(t.url());
    await live(operatorTab);
    const linkTab = await b.tab(linkUrl);
    await linkTab.locator("[data-testid=rig-title]", { hasText: "alpha" }).waitFor();
    await linkTab.locator("[data-testid=read-only]").waitFor();
    expect(await linkTab.locator("[data-testid=whoami-scope]").innerText()).toBe("· link to rig alpha");
    expect(await linkTab.locator("[data-testid=operator-actions], [data-testid=share]").count()).toBe(0);
    expect(new URL(linkTab.url()).search, "no token in the address").toBe("");
    expect(await storage(linkTab, "sessionStorage", `townhall.link.${t.town}`)).toBe(link.token);
    expect(await storage(linkTab, "localStorage", `townhall.token.${t.town}`), "the operator's token is untouched").toBe(t.operator);
    // A reload keeps the link in its tab; a new tab of the browser is the operator's again.
    await linkTab.reload();
    await linkTab.locator("[data-testid=read-only]").waitFor();
    const another = await b.tab(`http://${host}/t/${t.town}`);
    await another.locator("[data-testid=whoami][data-role=operator]").waitFor();
    await another.locator("[data-testid=operator-actions]").waitFor();
    // Leaving the link forgets it in its tab only; that tab is the operator's again.
    await linkTab.locator("[data-testid=whoami]").click();
    expect(await linkTab.locator("[data-testid=session-kept]").innerText()).toMatch(/this tab only/);
    await linkTab.locator("[data-testid=sign-out]").click();
    await linkTab.locator("[data-testid=whoami][data-role=operator]").waitFor();
    expect(await storage(linkTab, "localStorage", `townhall.token.${t.town}`)).toBe(t.operator);

    // A fresh browser (no operator token at all) opens the link read-only.
    const fresh = await profile();
    const viewer = await fresh.tab(linkUrl);
    await viewer.locator("[data-testid=rig-title]", { hasText: "alpha" }).waitFor();
    await viewer.locator("[data-testid=read-only]").waitFor();
    expect(await storage(viewer, "localStorage", `townhall.token.${t.town}`)).toBeNull();
  });

  it("an expired kept token or link says so and asks for a fresh one", async () => {
    const t = await town("expired");
    const past = Math.floor(Date.now() / 1000) - 60;
    const b = await profile();
    const stale = await b.tab(t.url("", await t.token({ role: "operator", exp: past })));
    await stale.getByRole("heading", { name: "Your sign-in has expired" }).waitFor();
    expect(await stale.locator("[data-testid=expired]").innerText()).toMatch(/Open a fresh operator link/);
    expect(new URL(stale.url()).search).toBe("");
    await stale.locator("[data-testid=sign-out]").click();
    await stale.locator("[data-testid=signed-out]").waitFor();
    expect(await storage(stale, "localStorage", `townhall.token.${t.town}`)).toBeNull();

    const oldLink = await b.tab(t.url("", await t.token({ role: "viewer", exp: past, view: { kind: "town" } })));
    await oldLink.getByRole("heading", { name: "This link has expired" }).waitFor();
    expect(await oldLink.locator("[data-testid=expired]").innerText()).toMatch(/Ask an operator for a fresh link/);
  });
});

describe("phones", () => {
  it("no view is wider than a 360 px screen, and dialogs fit it", async () => {
    const t = await town("phone");
    // Long names and unbroken strings, as real towns have them.
    const rigName = "payments-reconciliation-service-eu-west";
    const rig = await t.readyRig(rigName, {
      git_url: "git@github.com:acme-corporation-international/payments-reconciliation-service-with-a-very-long-name.git",
      capabilities: ["typescript-backend-services", "postgresql-migrations"],
    });
    await t.readyRig("docs");
    const { bead, start } = await workingAgent(
      t,
      rig,
      "Refactor_the_authentication_middleware_so_that_every_request_is_checked_twice",
      "See /srv/townhall/rigs/payments/worktrees/toast/src/middleware/authentication/checks.ts",
    );
    const agent = start.identity.split("/").pop()!;
    await t.rigCall(
      rig,
      "gt_mail_send",
      { to: "docs/witness", subject: "Where_is_the_documentation_for_/v2/reconciliation/batches/{batchId}/entries?", body: "x" },
      start.token,
    );
    // The town mail view shows the town's mail (the Mayor's and the operator's); rig mail is on the rig board.
    await t.townCall("gt_mail_send", { to: "mayor", subject: "Please_look_at_the_documentation_for_/v2/reconciliation/batches/{batchId}/entries", body: "x" });
    const convoy = await t.townCall<ConvoyProgress>("gt_convoy_create", {
      title: "Quarter-end_reconciliation_hardening_for_every_region",
      beads: [
        { title: "Idempotent_batch_imports_for_the_reconciliation_ledger", rig: rigName },
        { title: "Document the reconciliation API", rig: "docs" },
      ],
    });
    const b = await profile({ width: 360, height: 740 });
    // How much wider than the screen the page is, and the outermost elements that stick out (to name the culprit).
    const overflow = (p: Page) =>
      p.evaluate(() => {
        const wider = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth;
        // Sticking out and seen: not clipped by a scrolling or clipping box that is itself on screen.
        const clipped = (e: Element) => {
          for (let a = e.parentElement; a; a = a.parentElement) {
            if (getComputedStyle(a).overflowX !== "visible" && a.getBoundingClientRect().right <= window.innerWidth + 0.5) return true;
          }
          return false;
        };
        const out = [...document.querySelectorAll<HTMLElement>("body *")].filter(
          (e) => e.getBoundingClientRect().right > window.innerWidth + 0.5 && !e.closest("dialog:not([open])") && !clipped(e),
        );
        const outermost = out.filter((e) => !out.includes(e.parentElement!)).slice(0, 5);
        return {
          wider: Math.max(0, wider),
          sticking: outermost.map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].slice(0, 4).join(".")} "${(e.textContent ?? "").slice(0, 40)}"`),
        };
      });
    const views: [string, string][] = [
      ["", `[data-testid=rig-card][data-rig=${rigName}]`],
      [`/rigs/${rigName}`, `[data-testid=bead-card][data-bead="${bead.id}"]`],
      [`/rigs/${rigName}/beads/${bead.id}`, "[data-testid=bead-detail]"],
      [`/rigs/${rigName}/agents/${agent}`, "[data-testid=agent-detail]"],
      [`/convoys/${convoy.id}`, "[data-testid=convoy-title]"],
      ["/mail", "[data-testid=mail-subject]"],
    ];
    const p = await b.tab(t.url());
    for (const [path, ready] of views) {
      await p.goto(`http://${host}/t/${t.town}${path}`);
      await p.locator(ready).first().waitFor();
      await live(p);
      expect(await overflow(p), `${path || "overview"} fits a 360 px screen`).toEqual({ wider: 0, sticking: [] });
    }

    // Every dialog fits the screen, and its rig list is not cut off ("Automatic (Mayor)").
    const fits = (p: Page, testid: string) =>
      p.locator(`[data-testid=${testid}]`).evaluate((d) => {
        const r = d.getBoundingClientRect();
        return { inside: r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight, clipped: d.scrollWidth - d.clientWidth };
      });
    await p.goto(`http://${host}/t/${t.town}`);
    for (const [button, dialog] of [
      ["open-sling", "sling-dialog"],
      ["open-convoy", "convoy-dialog"],
      ["open-add-rig", "add-rig-dialog"],
      ["send-mail", "mail-dialog"],
      ["share", "share-dialog"],
    ]) {
      await p.locator(`[data-testid=${button}]`).click();
      await p.locator(`[data-testid=${dialog}][open]`).waitFor();
      expect(await fits(p, dialog!), dialog).toEqual({ inside: true, clipped: 0 });
      if (dialog === "convoy-dialog") {
        const room = await p
          .locator("[data-testid=convoy-dialog] [data-testid=convoy-bead-row] select")
          .first()
          .evaluate((select) => {
            const style = getComputedStyle(select);
            const ctx = document.createElement("canvas").getContext("2d")!;
            ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
            const options = (select as unknown as HTMLSelectElement).options;
            const text = options[options.selectedIndex]!.text;
            // Room for the text beside the padding and the native arrow (about 20 px).
            return { text, spare: select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20 - ctx.measureText(text).width };
          });
        expect(room.text).toBe("Automatic (Mayor)");
        expect(room.spare, "room left for 'Automatic (Mayor)'").toBeGreaterThanOrEqual(0);
      }
      await p.keyboard.press("Escape");
      await p.locator(`[data-testid=${dialog}][open]`).waitFor({ state: "detached" });
    }
    expect(await overflow(p)).toEqual({ wider: 0, sticking: [] });
  });
});

describe("polish", () => {
  it("the tab is titled after the view", async () => {
    const t = await town("titles");
    const alpha = await t.readyRig("alpha");
    await t.polecat(alpha, "maple");
    const bead = await t.rigCall<Bead>(alpha, "gt_bead_create", { title: "Write the changelog" });
    const convoy = await t.townCall<ConvoyProgress>("gt_convoy_create", { title: "Release 1.2", beads: [{ title: "Tag it", rig: "alpha" }] });
    const b = await profile();
    const p = await b.tab(t.url());
    const titled = (title: string) => p.waitForFunction((want) => document.title === want, title);
    await titled(`overview · ${t.town} — Townhall`);
    await p.locator("[data-testid=rig-card][data-rig=alpha] a").click();
    await titled(`alpha · ${t.town} — Townhall`);
    await p.locator(`[data-testid=bead-card][data-bead="${bead.id}"]`).click();
    await titled("bead Write the changelog · alpha — Townhall");
    for (const [path, title] of [
      ["/rigs/alpha/agents/maple", "agent maple · alpha — Townhall"],
      [`/convoys/${convoy.id}`, `convoy Release 1.2 · ${t.town} — Townhall`],
      ["/mail", `mail · ${t.town} — Townhall`],
      ["/rigs/nope", `rig not found · ${t.town} — Townhall`],
    ]) {
      await p.goto(`http://${host}/t/${t.town}${path}`);
      await titled(title!);
    }
  });

  it("a favicon is served (no 404 on load) and a loading skeleton shows before the first sync", async () => {
    const t = await town("icon");
    await t.readyRig("alpha");
    const b = await profile();
    const page = await b.context.newPage();
    const missing: string[] = [];
    page.on("response", (r) => r.status() === 404 && missing.push(r.url()));
    // Hold the town's document socket back, so the page stays in its loading state until released.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.routeWebSocket(/\/docs\/town/, async (ws) => {
      await held;
      ws.connectToServer();
    });
    await page.goto(t.url());
    await page.locator("[data-testid=view-skeleton], [data-testid=loading]").first().waitFor();
    expect(await page.locator("[data-testid=rig-card]").count()).toBe(0);
    release();
    await page.locator("[data-testid=rig-card][data-rig=alpha]").waitFor();
    expect(await page.locator("[data-testid=view-skeleton]").count()).toBe(0);
    const icon = await page.evaluate(() => document.querySelector<HTMLLinkElement>("link[rel=icon]")?.href);
    expect(icon).toBe(`http://${host}/favicon.svg`);
    const res = await page.request.get(icon!);
    expect(res.status()).toBe(200);
    expect(res.headers()["content-type"]).toMatch(/^image\/svg\+xml/);
    expect(await res.text()).toMatch(/^<svg /);
    expect(missing).toEqual([]);
  });

  it("a visible hint opens the shortcut list; ? opens it too and Esc closes it", async () => {
    const t = await town("hint");
    await t.readyRig("alpha");
    const b = await profile();
    const p = await b.tab(t.url());
    await p.locator("[data-testid=rig-card][data-rig=alpha]").waitFor();
    const hint = p.locator("[data-testid=shortcuts-hint]");
    expect(await hint.isVisible()).toBe(true);
    expect(await hint.getAttribute("title")).toBe("Keyboard shortcuts (?)");
    await hint.click();
    const list = p.locator("[data-testid=shortcuts]");
    await list.waitFor();
    expect(await list.innerText()).toMatch(/g o\s+overview/);
    await p.keyboard.press("Escape");
    await list.waitFor({ state: "detached" });
    await p.keyboard.press("?");
    await list.waitFor();
  });

  it("compact rows: a toggle that makes rows denser and is remembered by the browser", async () => {
    const t = await town("compact");
    const alpha = await t.readyRig("alpha");
    await t.rigCall(alpha, "gt_bead_create", { title: "One bead" });
    const b = await profile();
    const p = await b.tab(t.url());
    const card = p.locator("[data-testid=rig-card][data-rig=alpha]");
    await card.waitFor();
    const height = () => card.evaluate((e) => e.getBoundingClientRect().height);
    const roomy = await height();
    const toggle = p.locator("[data-testid=density-toggle]");
    expect(await toggle.getAttribute("aria-pressed")).toBe("false");
    await toggle.click();
    expect(await toggle.getAttribute("aria-pressed")).toBe("true");
    expect(await p.evaluate(() => document.documentElement.classList.contains("compact"))).toBe(true);
    expect(await card.locator("[data-testid=rig-card-compact]").innerText()).toMatch(/^1 bead · \d of \d (agents?|polecats?) working · 0 mail queued$/);
    expect(await height()).toBeLessThan(roomy * 0.7);
    // Remembered: a reload and a new tab open compact.
    await p.reload();
    await card.waitFor();
    expect(await p.evaluate(() => document.documentElement.classList.contains("compact"))).toBe(true);
    const other = await b.tab(`http://${host}/t/${t.town}/rigs/alpha`);
    await other.locator("[data-testid=bead-card]").waitFor();
    expect(await other.locator("[data-testid=density-toggle]").getAttribute("aria-pressed")).toBe("true");
    expect(await other.locator("[data-testid=bead-card]").evaluate((e) => e.getBoundingClientRect().height)).toBeLessThan(50);
    await other.locator("[data-testid=density-toggle]").click();
    expect(await other.locator("[data-testid=bead-card]").evaluate((e) => e.getBoundingClientRect().height)).toBe(76);
  });
});

describe("words", () => {
  it("plurals, the rig selector says why a rig is first, the sling result links its bead, add-rig explains itself", async () => {
    const t = await town("words");
    const one = await t.readyRig("solo", { max_polecats: 1 });
    await t.readyRig("calm");
    await t.rigCall(one, "gt_escalate", { title: "Needs a hand", severity: "high" }, (await t.polecat(one, "toast")).token);
    const b = await profile();
    const p = await b.tab(t.url("/rigs/solo"));
    await p.locator("[data-testid=rig-title]", { hasText: "solo" }).waitFor();
    await live(p, 2);
    expect(await p.locator("[data-testid=rig-polecats]").innerText()).toBe("0 of 1 polecat working · up to 1");
    // The selector groups rigs that need attention and says why, with no unexplained mark.
    await p.locator("[data-testid=rigs-needing-attention] option", { hasText: "solo — 1 escalation" }).waitFor({ state: "attached" });
    const options = await p.locator("[data-testid=rig-selector] option").allInnerTexts();
    expect(options.join("|")).not.toContain("●");
    expect(await p.locator("[data-testid=rig-selector] optgroup").evaluateAll((gs) => gs.map((g) => (g as HTMLOptGroupElement).label))).toEqual([
      "Need attention",
      "Other rigs",
    ]);

    // Sling from the overview: the new bead's id is a link to it.
    await p.goto(`http://${host}/t/${t.town}`);
    await p.locator("[data-testid=open-sling]").click();
    const sling = p.locator("[data-testid=sling-dialog]");
    await sling.locator("input[name=title]").fill("Tidy the README");
    await sling.locator("select[name=rig]").selectOption("calm");
    await sling.locator("[data-testid=action-submit]").click();
    const link = sling.locator("[data-testid=sling-bead-link]");
    await link.waitFor();
    const beadId = await sling.locator("[data-testid=sling-result]").getAttribute("data-bead");
    expect(await link.getAttribute("href")).toBe(`/t/${t.town}/rigs/calm/beads/${beadId}`);
    await link.click();
    await p.locator("[data-testid=bead-title]", { hasText: "Tidy the README" }).waitFor();

    // Add a rig with bad input: the app's own words, per field, and nothing is sent.
    await p.goto(`http://${host}/t/${t.town}`);
    await p.locator("[data-testid=open-add-rig]").click();
    const add = p.locator("[data-testid=add-rig-dialog]");
    await add.locator("input[name=name]").fill("My Rig");
    await add.locator("input[name=git_url]").fill("ext::sh -c evil");
    await add.locator("input[name=max_polecats]").fill("100");
    await add.locator("[data-testid=action-submit]").click();
    expect(await add.locator("[data-testid=field-error]").evaluateAll((es) => es.map((e) => e.getAttribute("data-field")))).toEqual(["name", "git_url", "max"]);
    expect(await add.locator("[data-testid=field-error][data-field=name]").innerText()).toMatch(/lowercase letters a–z, digits and '-'/);
    expect(await add.locator("[data-testid=field-error][data-field=git_url]").innerText()).toMatch(/^Remote helpers .* are not allowed/);
    expect(await add.locator("[data-testid=field-error][data-field=max]").innerText()).toBe("A whole number from 1 to 64.");
    expect(await p.evaluate(() => document.activeElement?.getAttribute("name"))).toBe("name");
    expect((await t.townCall<{ name: string }[]>("gt_list_rigs")).map((r) => r.name).sort()).toEqual(["calm", "solo"]);
    // Fixed, it goes through.
    await add.locator("input[name=name]").fill("my-rig");
    await add.locator("input[name=git_url]").fill("/tmp/my-rig.git");
    await add.locator("input[name=max_polecats]").fill("2");
    await add.locator("[data-testid=action-submit]").click();
    await p.locator("[data-testid=rig-card][data-rig=my-rig]").waitFor();
  });
});

describe("feed", () => {
  it("filters by kind and by rig, and marks each event with its tone", async () => {
    const t = await town("feed");
    await t.readyRig("alpha");
    await t.readyRig("beta");
    await t.townCall("gt_sling", { title: "Alpha work", rig: "alpha" });
    await t.townCall("gt_sling", { title: "Beta work", rig: "beta" });
    await t.townCall("gt_mail_send", { to: "mayor", subject: "Hello", body: "" });
    const b = await profile();
    const p = await b.tab(t.url());
    const events = p.locator("[data-testid=activity-panel] [data-testid=feed-event]");
    await events.filter({ hasText: "Beta work" }).waitFor();
    const kinds = () => events.evaluateAll((es) => es.map((e) => e.getAttribute("data-kind")));
    expect(new Set(await kinds())).toEqual(new Set(["rig", "sling", "mail"]));
    // Every event carries a tone, read from the room or its kind.
    for (const tone of await events.evaluateAll((es) => es.map((e) => e.getAttribute("data-tone")))) expect(["bad", "warn", "good", "info"]).toContain(tone);

    await p.locator("[data-testid=feed-filter-kind]").selectOption("sling");
    await events.filter({ hasText: "Alpha work" }).waitFor();
    expect(await kinds()).toEqual(["sling", "sling"]);
    // Problems only: nothing has failed in this town.
    await p.locator("[data-testid=feed-filter-kind]").selectOption("problems");
    await p.locator("[data-testid=activity-panel]").getByText("No events match these filters.").waitFor();
    // By rig: only what the room says is beta's (never alpha's sling).
    await p.locator("[data-testid=feed-filter-kind]").selectOption("");
    await p.locator("[data-testid=feed-filter-rig]").selectOption("beta");
    expect(await events.filter({ hasText: "Alpha work" }).count()).toBe(0);
    expect(new Set(await events.evaluateAll((es) => es.map((e) => e.getAttribute("data-rig"))))).not.toContain("alpha");
    await p.locator("[data-testid=feed-filter-clear]").click();
    await events.filter({ hasText: "Alpha work" }).waitFor();
    expect(await events.count()).toBeGreaterThanOrEqual(5);
  });
});

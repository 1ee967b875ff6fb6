/**
 * Links reveal nothing outside their view's rig(s), and their pages say what they cannot show.
 * Seeds two rigs: `links-docs` (a bead, an agent) and `links-web` (a failed bead, an escalation, a
 * convoy of its own), and a convoy spanning both.
 */
import { expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { Bead, Rig, ShareResult } from "../../../party/protocol.ts";
import type { E2ETown } from "../fixtures.ts";
import { part } from "./part.ts";

type Seed = { docs: Rig; web: Rig; spanning: string; webOnly: string; docsBead: string };

/** Words of links-web that no link made for links-docs, or for the spanning convoy, may show. */
const WEB_SECRETS = ["links-web secret failure", "links-web secret escalation", "links-web only convoy"];

async function link(t: E2ETown, path: string): Promise<string> {
  const shared = await t.townCall<ShareResult>("gt_share", { path: `/t/${t.town}${path}`, ttl_s: 3600 });
  return `http://${t.host}${shared.path}`;
}

/** A fresh browser page that records every socket it opens, then opens `url`. */
async function watched(page: (url: string) => Promise<Page>, url: string): Promise<{ p: Page; sockets: string[] }> {
  const p = await page("about:blank");
  const sockets: string[] = [];
  p.on("websocket", (ws) => sockets.push(new URL(ws.url()).pathname));
  await p.goto(url);
  return { p, sockets };
}

const text = (p: Page) => p.locator("body").innerText();

/** Other rigs of the shared town (other parts' too): none may be named on a links-docs page. */
async function otherRigNames(t: E2ETown, except: string[]): Promise<string[]> {
  const rigs = await t.townCall<Rig[]>("gt_list_rigs", {});
  return rigs.map((r) => r.name).filter((n) => !except.includes(n));
}

export default part<Seed>({
  name: "links",
  async seed(t) {
    const docs = await t.readyRig("links-docs");
    const web = await t.readyRig("links-web");
    const spanning = await t.townCall<{ id: string }>("gt_convoy_create", {
      title: "links spanning convoy",
      beads: [
        { title: "links docs page", rig: "links-docs" },
        { title: "links web page", rig: "links-web" },
      ],
    });
    const webOnly = await t.townCall<{ id: string }>("gt_convoy_create", {
      title: "links-web only convoy",
      beads: [{ title: "links web chore", rig: "links-web" }],
    });
    const failed = await t.rigCall<Bead>(web, "gt_bead_create", { title: "links-web secret failure" });
    await t.rigCall(web, "gt_bead_update", { bead_id: failed.id, status: "failed" });
    const webAgent = await t.polecat(web, "slit");
    await t.rigCall(web, "gt_escalate", { title: "links-web secret escalation", severity: "high" }, webAgent.token);
    const docsBead = await t.rigCall<Bead>(docs, "gt_bead_create", { title: "links docs bead" });
    await t.polecat(docs, "nux");
    return { docs, web, spanning: spanning.id, webOnly: webOnly.id, docsBead: docsBead.id };
  },
  rows(get) {
    it("A share link made for rig docs, opened in a fresh browser: no town overview, no other rig's name, titles or counts; a convoy link shows that convoy only", async () => {
      const { t, s, page } = get();
      const others = await otherRigNames(t, ["links-docs"]);
      expect(others).toContain("links-web");

      const { p, sockets } = await watched(page, await link(t, "/rigs/links-docs"));
      await p.locator("[data-testid=rig-title]", { hasText: "links-docs" }).waitFor();
      await p.getByText("links docs bead").first().waitFor();
      // The rig picker lists its rig only; there is no Overview of the town to go to.
      const options = await p.locator("[data-testid=rig-selector] option").allInnerTexts();
      expect(options.filter((o) => o.includes("links"))).toEqual(["links-docs"]);
      expect(await p.locator("nav[aria-label=Town] a", { hasText: "Overview" }).count()).toBe(0);
      // The overview's address says what the link shows instead of the whole town.
      await p.goto(`http://${t.host}/t/${t.town}`);
      await p.locator("[data-testid=not-in-reach]", { hasText: "This link shows rig links-docs only" }).waitFor();
      // A convoy's address: not part of a rig link, even the convoy its rig is in.
      await p.goto(`http://${t.host}/t/${t.town}/convoys/${s.webOnly}`);
      await p.locator("[data-testid=not-in-reach]").waitFor();
      // Another rig's address: it says the link shows links-docs only.
      await p.goto(`http://${t.host}/t/${t.town}/rigs/links-web`);
      await p.locator("[data-testid=not-in-reach]", { hasText: "links-docs only" }).waitFor();
      const shown = await text(p);
      for (const secret of WEB_SECRETS) expect(shown).not.toContain(secret);
      // Not a name, title or count of another rig on any of its pages, and no socket for the town.
      await p.goto(`http://${t.host}/t/${t.town}/rigs/links-docs`);
      await p.getByText("links docs bead").first().waitFor();
      const board = await text(p);
      for (const name of others) expect(board, `rig ${name} named on a links-docs link`).not.toMatch(new RegExp(`\\b${name}\\b`));
      for (const secret of WEB_SECRETS) expect(board).not.toContain(secret);
      expect(
        sockets.filter((path) => path.includes(`/parties/main/`)),
        "a rig link opens nothing in the town room",
      ).toEqual([]);
      expect(sockets.every((path) => path === `/parties/rig/${t.town}.${s.docs.id}/docs/rig`)).toBe(true);

      // A convoy link: that convoy, its beads and their rigs' names; nothing else of links-web.
      const convoy = await watched(page, await link(t, `/convoys/${s.spanning}`));
      await convoy.p.locator("[data-testid=convoy-title]", { hasText: "links spanning convoy" }).waitFor();
      await convoy.p.getByText("links web page").first().waitFor();
      const convoyText = await text(convoy.p);
      for (const secret of WEB_SECRETS) expect(convoyText).not.toContain(secret);
      for (const name of others.filter((n) => n !== "links-web")) expect(convoyText).not.toMatch(new RegExp(`\\b${name}\\b`));
      expect(await convoy.p.locator("[data-testid=rig-selector]").count(), "a convoy link has no rig to pick").toBe(0);
      expect(convoy.sockets.some((path) => path.endsWith("/docs/town"))).toBe(false);

      // A rig-scoped operator follows the same rule: its rig and the convoys it is in, no other rig.
      const operator = await watched(page, t.url("", await t.token({ role: "operator", rig: s.docs.id })));
      await operator.p.locator("[data-testid=rig-card][data-rig=links-docs]").waitFor();
      await operator.p.getByText("links spanning convoy").first().waitFor();
      const overview = await text(operator.p);
      expect(overview).not.toContain("links-web only convoy");
      for (const secret of WEB_SECRETS) expect(overview).not.toContain(secret);
      expect(await operator.p.locator("[data-testid=rig-card]").count()).toBe(1);
      expect(await operator.p.locator("[data-testid=activity-panel] [data-testid=not-in-link]").innerText()).toContain("not part of what this token shows");
      expect(operator.sockets.some((path) => path.endsWith("/docs/town"))).toBe(false);
    });

    it("Link pages: 'Everyone has read their mail' beside 'Loading mail…' forever; 'No run yet' on an agent page; a 'not allowed' banner over skeletons and 'No agents yet': each says what the link cannot show", async () => {
      const { t, s, page } = get();
      const { p } = await watched(page, await link(t, "/rigs/links-docs"));
      await p.locator("[data-testid=rig-title]", { hasText: "links-docs" }).waitFor();
      // The rig's spend and runtime are the registry's: not part of a rig link, said so (not "No usage recorded yet").
      await p.locator("[data-testid=rig-spend-none]", { hasText: "not part of this link" }).waitFor();
      expect(await p.locator("[data-testid=rig-runtime]").innerText()).toContain("not part of this link");
      // The town's mail: not part of a rig link, said so (no "Everyone has read their mail" with "Loading mail…").
      await p.goto(`http://${t.host}/t/${t.town}/mail`);
      await p.locator("[data-testid=not-in-reach]", { hasText: "The town's mail" }).waitFor();
      let shown = await text(p);
      expect(shown).not.toContain("Everyone has read their mail");
      expect(shown).not.toContain("Loading mail");
      // An agent's page: its output is not part of a rig link, said so (no "No run yet").
      await p.goto(`http://${t.host}/t/${t.town}/rigs/links-docs/agents/nux`);
      await p.locator("[data-testid=agent-detail]").waitFor();
      await p.locator("[data-testid=output-refused]", { hasText: "not part of this link" }).waitFor();
      expect(await text(p)).not.toContain("No run yet");
      // A bead's page: its runs are not part of a rig link, said so (no "No runs yet" nor a skeleton).
      await p.goto(`http://${t.host}/t/${t.town}/rigs/links-docs/beads/${s.docsBead}`);
      await p.locator("[data-testid=bead-runs-error]", { hasText: "not part of this link" }).waitFor();
      shown = await text(p);
      expect(shown).not.toContain("No runs yet");
      expect(shown).not.toContain("Loading the runs");
      // Another rig's board: no "not allowed" banner over skeletons and "No agents yet".
      await p.goto(`http://${t.host}/t/${t.town}/rigs/links-web`);
      await p.locator("[data-testid=not-in-reach]", { hasText: "links-docs only" }).waitFor();
      shown = await text(p);
      for (const wrong of ["No agents yet", "not allowed", "Loading"]) expect(shown).not.toContain(wrong);
      expect(await p.locator("[data-testid=view-skeleton], .skeleton").count()).toBe(0);
    });
  },
});

/**
 * A rig's runtime and model on the dashboard, against the real registry: chosen when the rig is
 * added, shown on its page, changed there (from the next run), a bad model refused with nothing
 * changed.
 */
import { expect, it } from "vitest";
import type { Bead, Rig } from "../../party/protocol.ts";
import { harness, live } from "./harness.ts";

const h = harness();

it("adds a rig with a runtime and model, shows them, and changes them from the rig's page", async () => {
  const t = await h.town("runtime");
  await t.readyRig("alpha");
  const p = await h.page(t.url());
  await live(p);
  const registry = async (name: string) => (await t.townCall<Rig[]>("gt_list_rigs")).find((r) => r.name === name)!;

  // Add: the model field is off for runtimes that take none, and follows the runtime chosen.
  await p.locator("[data-testid=open-add-rig]").click();
  const add = p.locator("[data-testid=add-rig-dialog]");
  await add.locator("input[name=name]").fill("agents");
  await add.locator("input[name=git_url]").fill("/tmp/agents.git");
  await add.locator("select[name=runtime]").selectOption("scripted");
  expect(await add.locator("input[name=model]").isDisabled()).toBe(true);
  await add.locator("select[name=runtime]").selectOption("claude");
  await add.locator("input[name=model]").fill("claude-sonnet-4-5");
  await add.locator("[data-testid=action-submit]").click();
  await p.locator("[data-testid=rig-card][data-rig=agents]").waitFor();
  expect(await registry("agents")).toMatchObject({ runtime: "claude", model: "claude-sonnet-4-5" });

  // Its page says how its agents run.
  await p.goto(t.url("/rigs/agents"));
  const line = p.locator("[data-testid=rig-runtime]");
  await line.waitFor();
  expect(await line.innerText()).toBe("runs Claude Code · model claude-sonnet-4-5");

  // Change: the dialog starts from the registry and says when a change applies.
  await p.locator("[data-testid=open-rig-runtime]").click();
  const dialog = p.locator("[data-testid=rig-runtime-dialog]");
  expect(await dialog.locator("select[name=runtime]").inputValue()).toBe("claude");
  expect(await dialog.locator("input[name=model]").inputValue()).toBe("claude-sonnet-4-5");
  expect(await dialog.locator("[data-testid=runtime-next-run]").innerText()).toMatch(/^Applies from the rig's next run/);
  // A bad model: the app's words, nothing sent, nothing changed.
  await dialog.locator("input[name=model]").fill("two words");
  await dialog.locator("[data-testid=action-submit]").click();
  expect(await dialog.locator("[data-testid=field-error][data-field=model]").innerText()).toMatch(/^A model name has letters/);
  expect(await registry("agents")).toMatchObject({ runtime: "claude", model: "claude-sonnet-4-5" });
  // Another runtime empties the model (a model names one CLI's models).
  await dialog.locator("select[name=runtime]").selectOption("codex");
  expect(await dialog.locator("input[name=model]").inputValue()).toBe("");
  await dialog.locator("input[name=model]").fill("gpt-5-codex");
  await dialog.locator("[data-testid=action-submit]").click();
  await dialog.waitFor({ state: "detached" });
  await p.locator("[data-testid=rig-runtime]", { hasText: "runs Codex · model gpt-5-codex" }).waitFor();
  expect(await registry("agents")).toMatchObject({ runtime: "codex", model: "gpt-5-codex" });

  // Back to the container's default: both reset in the registry.
  await p.locator("[data-testid=open-rig-runtime]").click();
  await dialog.locator("select[name=runtime]").selectOption("");
  await dialog.locator("[data-testid=action-submit]").click();
  await p.locator("[data-testid=rig-runtime]", { hasText: "runs the container's default runtime" }).waitFor();
  const reset = await registry("agents");
  expect(reset.runtime).toBeUndefined();
  expect(reset.model).toBeUndefined();
});

it("the sling and convoy dialogs may ask for a model: sent with the bead, a bad one refused before anything is sent", async () => {
  const t = await h.town("slingmodel");
  const alpha = await t.readyRig("alpha");
  const p = await h.page("about:blank");
  const sent: Record<string, unknown>[] = [];
  p.on("request", (r) => /gt_sling|gt_convoy_create/.test(r.url()) && sent.push(JSON.parse(r.postData() ?? "null")));
  await p.goto(t.url());
  await live(p);

  await p.locator("[data-testid=open-sling]").click();
  const sling = p.locator("[data-testid=sling-dialog]");
  await sling.locator("input[name=title]").fill("Tidy the README");
  await sling.locator("input[name=model]").fill("claude sonnet");
  await sling.locator("[data-testid=action-submit]").click();
  expect(await sling.locator("[data-testid=field-error][data-field=model]").innerText()).toMatch(/^A model name has letters/);
  expect(sent).toEqual([]);
  await sling.locator("input[name=model]").fill("claude-haiku-4-5");
  await sling.locator("[data-testid=action-submit]").click();
  const result = sling.locator("[data-testid=sling-result][data-rig=alpha]");
  await result.waitFor();
  expect(sent).toEqual([expect.objectContaining({ title: "Tidy the README", model: "claude-haiku-4-5" })]);
  // The bead asks for that model over its rig's.
  const beadId = (await result.getAttribute("data-bead"))!;
  await expect.poll(async () => (await t.rigCall<Bead>(alpha, "gt_bead_status", { bead_id: beadId }).catch(() => null))?.model).toBe("claude-haiku-4-5");
  expect(await sling.locator("input[name=model]").inputValue()).toBe("");
  await sling.getByRole("button", { name: "Close" }).click();

  await p.locator("[data-testid=open-convoy]").click();
  const convoy = p.locator("[data-testid=convoy-dialog]");
  await convoy.locator("input[name=title]").fill("Spring cleaning");
  await convoy.locator("input[name=bead-0-title]").fill("One");
  await convoy.locator("input[name=bead-1-title]").fill("Two");
  await convoy.locator("input[name=model]").fill("gpt-5-codex");
  await convoy.locator("[data-testid=action-submit]").click();
  await p.waitForURL(/\/convoys\//);
  expect(sent[1]).toMatchObject({
    title: "Spring cleaning",
    beads: [
      { title: "One", model: "gpt-5-codex" },
      { title: "Two", model: "gpt-5-codex" },
    ],
  });
});

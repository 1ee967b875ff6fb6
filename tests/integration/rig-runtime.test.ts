/**
 * A rig's runtime and model in the registry, on real `partykit dev`: given when the rig is added,
 * changed and reset with gt_rig_update, they are on the Rig record of the town document and in
 * what gt_list_rigs answers (the container reads them there for each run); a bad one changes nothing.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import type { FeedEvent, Rig } from "../../party/protocol.ts";
import { fails, makeTown, type TestTown, untilReplica } from "../helpers/town.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
let town: TestTown;

afterEach(() => town?.closeAll());

describe("a rig's runtime and model", () => {
  it("are set by gt_rig_add, changed and reset by gt_rig_update, in the town document and gt_list_rigs", async () => {
    town = await makeTown(host, secret, "rt");
    const replica = town.replica("main", town.town, town.operator);
    await replica.whenSynced();
    const inDoc = (name: string) => [...replica.doc.getMap<Rig>("rigs").values()].find((r) => r.name === name);
    const listed = async (name: string, token = town.operator) => (await town.townCall<Rig[]>("gt_list_rigs", {}, token)).find((r) => r.name === name);
    const agentsOf = (rig: Rig | undefined) => (rig ? { runtime: rig.runtime ?? null, model: rig.model ?? null, keys: Object.keys(rig) } : null);

    const web = await town.addRig("web", { runtime: "claude", model: "claude-sonnet-4-5" });
    expect(web).toMatchObject({ runtime: "claude", model: "claude-sonnet-4-5" });
    await town.addRig("api"); // neither: the container's default runtime, its default model
    await untilReplica(replica, () => inDoc("web") && inDoc("api"));
    expect(inDoc("web")).toMatchObject({ runtime: "claude", model: "claude-sonnet-4-5" });
    expect(agentsOf(inDoc("api"))!.keys).not.toContain("runtime");
    // The container, which starts each run with what the registry says, reads the same.
    expect(await listed("web", town.container)).toMatchObject({ runtime: "claude", model: "claude-sonnet-4-5" });
    expect(await town.townCall<Rig>("gt_rig_status", { name: "web" })).toMatchObject({ runtime: "claude" });

    // Another runtime without a model: the old model (Claude's) goes; the feed says so.
    const codex = await town.townCall<Rig>("gt_rig_update", { name: "web", runtime: "codex" });
    expect(agentsOf(codex)).toMatchObject({ runtime: "codex", model: null });
    await untilReplica(replica, () => inDoc("web")?.runtime === "codex");
    expect(agentsOf(inDoc("web"))).toMatchObject({ runtime: "codex", model: null });
    expect(agentsOf(await listed("web"))).toMatchObject({ runtime: "codex", model: null });
    const feed = () => replica.doc.getArray<FeedEvent>("events").toArray();
    expect(feed().map((e) => e.text)).toContain("rig web updated: runtime codex, model back to the runtime's default (from its next run)");

    await town.townCall("gt_rig_update", { name: "web", model: "gpt-5-codex" });
    await untilReplica(replica, () => inDoc("web")?.model === "gpt-5-codex");
    expect(await listed("web")).toMatchObject({ runtime: "codex", model: "gpt-5-codex" });

    // null: back to the defaults, the keys gone from the record (not null in it).
    await town.townCall("gt_rig_update", { name: "web", runtime: null, model: null });
    await untilReplica(replica, () => inDoc("web")?.runtime === undefined);
    expect(agentsOf(inDoc("web"))!.keys).not.toContain("model");
    expect(agentsOf(await listed("web"))).toMatchObject({ runtime: null, model: null });
    expect(feed().at(-1)!.text).toBe("rig web updated: runtime back to the container's default, model back to the runtime's default (from its next run)");

    // Refused, and nothing changes: a model for the scripted agent, a runtime that does not exist, a viewer.
    // The registry's fields: the rig's summary is its room's to push, at any moment, and is no registry change.
    const registryOf = (rig: Rig | undefined) => rig && { ...rig, summary: undefined };
    const before = registryOf(await listed("api"));
    const scripted = await fails(town.townCall("gt_rig_update", { name: "api", runtime: "scripted", model: "claude-sonnet-4-5" }));
    expect([scripted.code, scripted.status, scripted.message]).toEqual([
      "INVALID_ARGS",
      400,
      "INVALID_ARGS: model: the scripted runtime takes no model (a model is for claude, codex, gemini or opencode)",
    ]);
    expect((await fails(town.townCall("gt_rig_update", { name: "api", runtime: "cursor" }))).code).toBe("INVALID_ARGS");
    expect((await fails(town.townCall("gt_rig_update", { name: "api", model: "rm -rf /" }))).code).toBe("INVALID_ARGS");
    expect((await fails(town.townCall("gt_rig_update", { name: "api", runtime: "claude" }, town.viewer))).code).toBe("FORBIDDEN");
    expect((await fails(town.townCall("gt_rig_add", { name: "docs", git_url: "/tmp/docs.git", runtime: "command", model: "x" }))).code).toBe("INVALID_ARGS");
    expect(registryOf(await listed("api"))).toEqual(before);
    expect((await town.townCall<Rig[]>("gt_list_rigs")).map((r) => r.name)).toEqual(["api", "web"]);
  });
});

/**
 * The rig registry's rules (party/town/registry.ts): adding, updating and removing rigs, the
 * summaries rigs push, and who sees a git URL whole.
 */
import { describe, expect, it } from "vitest";
import { refusal } from "../helpers/refusal.ts";
import { convoysWithoutRig, newRig, refuseNewRig, refuseTakenName, rigInitOf, seesRealUrl, updatedRig, withSummary } from "../../party/town/registry.ts";
import { emptySummary } from "../../party/summary.ts";
import { LIMITS, type Convoy, type ConvoyBead, type Rig, type TokenPayload } from "../../party/protocol.ts";

const ID = "01J0000000000000000000R1G1";

const added = (name: string, over: Partial<Rig> = {}): Rig => ({ ...newRig({ name, git_url: "/srv/git/x" }, `id-${name}`, 0), ...over });

describe("adding a rig", () => {
  it("makes a cloning entry with defaults, sorted unique capabilities and its git URL without credentials", () => {
    const rig = newRig({ name: "web", git_url: "https://bot:s3cret@git.example.com/web.git", capabilities: ["ts", "css", "ts"] }, ID, 42);
    expect(rig).toEqual({
      id: ID,
      name: "web",
      gitUrl: expect.not.stringContaining("s3cret"),
      defaultBranch: "main",
      capabilities: ["css", "ts"],
      maxPolecats: 3,
      status: "cloning",
      createdAt: 42,
      summary: emptySummary(42),
    });
    expect(newRig({ name: "api", git_url: "/srv/api", default_branch: "trunk", max_polecats: 5 }, ID, 0)).toMatchObject({
      defaultBranch: "trunk",
      maxPolecats: 5,
      capabilities: [],
    });
    expect(rigInitOf("demo", rig, 42)).toEqual({
      town: "demo",
      rig_id: ID,
      name: "web",
      created_at: 42,
      git_url: rig.gitUrl,
      default_branch: "main",
      max_polecats: 3,
    });
  });

  it("holds the runtime and model it is given, and neither when none is (the container's default, the runtime's)", () => {
    const rig = newRig({ name: "web", git_url: "/srv/web", runtime: "claude", model: "claude-sonnet-4-5" }, ID, 0);
    expect(rig).toMatchObject({ runtime: "claude", model: "claude-sonnet-4-5" });
    expect(newRig({ name: "web", git_url: "/srv/web", runtime: "codex" }, ID, 0)).toMatchObject({ runtime: "codex" });
    const plain = newRig({ name: "web", git_url: "/srv/web" }, ID, 0);
    expect(Object.keys(plain)).not.toContain("runtime"); // absent, not undefined: the document holds no key
    expect(Object.keys(plain)).not.toContain("model");
    // A model with the container's default runtime is kept: that default may be a CLI.
    expect(newRig({ name: "web", git_url: "/srv/web", model: "gpt-5-codex" }, ID, 0)).toMatchObject({ model: "gpt-5-codex" });
    expect(rigInitOf("demo", rig, 0)).not.toHaveProperty("runtime"); // the rig room is not told: the container reads the registry
  });

  it("refuses a model for a runtime that takes none (INVALID_ARGS)", () => {
    for (const runtime of ["scripted", "command"] as const)
      expect(refusal(() => newRig({ name: "web", git_url: "/srv/web", runtime, model: "claude-sonnet-4-5" }, ID, 0))).toEqual({
        code: "INVALID_ARGS",
        message: `model: the ${runtime} runtime takes no model (a model is for claude, codex, gemini or opencode)`,
      });
  });

  it("refuses a name the town has (CONFLICT), and a rig past the town's bound", () => {
    expect(refusal(() => refuseNewRig([added("web")], "web"))).toEqual({ code: "CONFLICT", message: "a rig named web already exists" });
    expect(refusal(() => refuseTakenName([added("web")], "web")).code).toBe("CONFLICT");
    const full = Array.from({ length: LIMITS.rigsPerTown }, (_, i) => added(`r${i}`));
    expect(refusal(() => refuseNewRig(full, "one-more"))).toEqual({ code: "CONFLICT", message: `a town holds at most ${LIMITS.rigsPerTown} rigs` });
    expect(() => refuseTakenName(full, "one-more")).not.toThrow(); // the re-check after the rig room started counts names only
    expect(() => refuseNewRig([added("web")], "api")).not.toThrow();
  });
});

describe("updating a rig", () => {
  it("changes what is given and says so", () => {
    const rig = added("web", { capabilities: ["ts"], maxPolecats: 3 });
    expect(updatedRig(rig, { name: "web", capabilities: ["web", "css", "web"] })).toEqual({
      rig: { ...rig, capabilities: ["css", "web"] },
      what: "capabilities css, web",
    });
    expect(updatedRig(rig, { name: "web", max_polecats: 6 })).toEqual({ rig: { ...rig, maxPolecats: 6 }, what: "max polecats 6" });
    expect(updatedRig(rig, { name: "web", capabilities: [], max_polecats: 1 }).what).toBe("capabilities none, max polecats 1");
    expect(updatedRig(rig, { name: "web" })).toEqual({ rig, what: "no change" });
  });

  it("sets the runtime and model, each applying from the rig's next run", () => {
    const rig = added("web");
    expect(updatedRig(rig, { name: "web", runtime: "claude", model: "claude-opus-4-1" })).toEqual({
      rig: { ...rig, runtime: "claude", model: "claude-opus-4-1" },
      what: "runtime claude, model claude-opus-4-1 (from its next run)",
    });
    const claude = added("web", { runtime: "claude", model: "claude-opus-4-1" });
    expect(updatedRig(claude, { name: "web", model: "claude-sonnet-4-5" })).toEqual({
      rig: { ...claude, model: "claude-sonnet-4-5" },
      what: "model claude-sonnet-4-5 (from its next run)",
    });
    // The same runtime again keeps the model; other fields leave both alone.
    expect(updatedRig(claude, { name: "web", runtime: "claude" }).rig).toEqual(claude);
    expect(updatedRig(claude, { name: "web", max_polecats: 2 })).toEqual({ rig: { ...claude, maxPolecats: 2 }, what: "max polecats 2" });
  });

  it("resets either with null: the runtime to the container's default, the model to the runtime's", () => {
    const claude = added("web", { runtime: "claude", model: "claude-opus-4-1" });
    const reset = updatedRig(claude, { name: "web", runtime: null, model: null });
    expect(reset.what).toBe("runtime back to the container's default, model back to the runtime's default (from its next run)");
    expect(Object.keys(reset.rig)).not.toContain("runtime"); // gone from the record, not set to null
    expect(Object.keys(reset.rig)).not.toContain("model");
    expect(reset.rig).toEqual(added("web"));
    const modelOnly = updatedRig(claude, { name: "web", model: null });
    expect(modelOnly.rig.runtime).toBe("claude");
    expect(Object.keys(modelOnly.rig)).not.toContain("model");
    expect(modelOnly.what).toBe("model back to the runtime's default (from its next run)");
    expect(updatedRig(added("web"), { name: "web", runtime: null }).what).toBe("runtime back to the container's default (from its next run)");
  });

  it("drops the model when the runtime changes without one (a model names one CLI's models)", () => {
    const claude = added("web", { runtime: "claude", model: "claude-opus-4-1" });
    const codex = updatedRig(claude, { name: "web", runtime: "codex" });
    expect(codex.rig.runtime).toBe("codex");
    expect(Object.keys(codex.rig)).not.toContain("model");
    expect(codex.what).toBe("runtime codex, model back to the runtime's default (from its next run)");
    expect(updatedRig(claude, { name: "web", runtime: "codex", model: "gpt-5-codex" }).rig).toMatchObject({ runtime: "codex", model: "gpt-5-codex" });
    // Back to the container's default drops it too, and so does the scripted agent, which takes none.
    expect(Object.keys(updatedRig(claude, { name: "web", runtime: null }).rig)).not.toContain("model");
    expect(updatedRig(claude, { name: "web", runtime: "scripted" }).rig).toEqual({ ...added("web"), runtime: "scripted" });
  });

  it("refuses a model for a runtime that takes none, given or kept (INVALID_ARGS)", () => {
    const scripted = added("web", { runtime: "scripted" });
    expect(refusal(() => updatedRig(scripted, { name: "web", model: "claude-sonnet-4-5" })).code).toBe("INVALID_ARGS");
    expect(refusal(() => updatedRig(added("web"), { name: "web", runtime: "command", model: "gpt-5" })).code).toBe("INVALID_ARGS");
    expect(updatedRig(scripted, { name: "web", model: null }).rig).toEqual(scripted);
  });
});

describe("removing a rig", () => {
  const bead = (beadId: string, rig: string, status: ConvoyBead["status"]): ConvoyBead => ({
    rigId: `id-${rig}`,
    rigName: rig,
    beadId,
    title: beadId,
    status,
    reason: "",
    rev: 1,
  });
  const convoy = (id: string, status: Convoy["status"], ...beads: ConvoyBead[]): Convoy => ({ id, title: id, status, createdAt: 0, beads });

  it("fails its unfinished beads in open convoys, makes those left with nothing unfinished stuck (never landed), and leaves the rest alone", () => {
    const changed = convoysWithoutRig(
      [
        convoy("lands", "open", bead("a1", "api", "closed"), bead("w1", "web", "in_progress")),
        convoy("stays-open", "open", bead("w2", "web", "open"), bead("a2", "api", "open")),
        convoy("finished-there", "open", bead("w3", "web", "closed"), bead("a3", "api", "open")),
        convoy("landed", "landed", bead("w4", "web", "failed")),
        convoy("landed-kept", "landed", bead("w5", "web", "open")), // a moved bead's successor, in a convoy the town had no room to reopen
        convoy("elsewhere", "open", bead("a4", "api", "open")),
      ],
      added("web"),
      9,
    );
    expect(changed.map(({ convoy: c, stuck }) => [c.id, c.status, stuck, c.beads.map((b) => `${b.beadId}:${b.status}${b.note ? `(${b.note})` : ""}`)])).toEqual(
      [
        ["lands", "stuck", true, ["a1:closed", "w1:failed(rig web was removed)"]],
        ["stays-open", "open", false, ["w2:failed(rig web was removed)", "a2:open"]],
      ],
    );
    expect(changed[0]!.convoy.landedAt).toBe(9);
  });
});

describe("summaries pushed by a rig", () => {
  it("replace an older one, and the rig's status with the summary's", () => {
    const rig = added("web", { status: "cloning" });
    const summary = { ...emptySummary(10), status: "ready" as const };
    expect(withSummary(rig, summary)).toEqual({ ...rig, status: "ready", summary });
    expect(withSummary(rig, emptySummary(10))).toEqual({ ...rig, summary: emptySummary(10) }); // no status: the registry's stays
  });

  it("are dropped when older than the one held (out of order)", () => {
    const rig = added("web", { summary: emptySummary(20) });
    expect(withSummary(rig, emptySummary(19))).toBeNull();
    expect(withSummary(rig, emptySummary(20))).not.toBeNull();
  });
});

describe("the git URL", () => {
  const token = (over: Partial<TokenPayload>): TokenPayload => ({ sub: "x", town: "demo", iat: 1, exp: 2, jti: "j", role: "operator", ...over });

  it("is whole only for a container that serves the rig", () => {
    const rig = added("web");
    expect(seesRealUrl(token({ role: "container" }), rig)).toBe(true);
    expect(seesRealUrl(token({ role: "container", rigs: ["id-web", "id-api"] }), rig)).toBe(true);
    expect(seesRealUrl(token({ role: "container", rigs: ["id-api"] }), rig)).toBe(false);
    expect(seesRealUrl(token({ role: "operator" }), rig)).toBe(false);
    expect(seesRealUrl(token({ role: "agent", agent: "mayor" }), rig)).toBe(false);
  });
});

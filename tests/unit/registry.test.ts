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

  it("fails its unfinished beads in open convoys, lands those left with nothing unfinished, and leaves the rest alone", () => {
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
    expect(
      changed.map(({ convoy: c, landed }) => [c.id, c.status, landed, c.beads.map((b) => `${b.beadId}:${b.status}${b.note ? `(${b.note})` : ""}`)]),
    ).toEqual([
      ["lands", "landed", true, ["a1:closed", "w1:failed(rig web was removed)"]],
      ["stays-open", "open", false, ["w2:failed(rig web was removed)", "a2:open"]],
    ]);
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

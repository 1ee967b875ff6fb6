import { describe, expect, it } from "vitest";
import { choose, type Candidate } from "../../party/town/placement.ts";

const rig = (name: string, over: Partial<Candidate> = {}): Candidate => ({
  id: `id-${name}`,
  name,
  status: "ready",
  capabilities: [],
  maxPolecats: 2,
  active: 0,
  total: 0,
  ...over,
});

describe("the Mayor's distribution (DESIGN §8)", () => {
  it("keeps only ready rigs whose capabilities cover the bead's requirements", () => {
    const decision = choose(
      [rig("web", { capabilities: ["ts", "web"] }), rig("api", { capabilities: ["go"] }), rig("new", { status: "cloning", capabilities: ["ts"] })],
      ["ts"],
    );
    expect(decision.ok && decision.rig.name).toBe("web");
    expect(decision.ok && decision.reason).toContain("not eligible: api (lacks ts), new (status cloning)");
  });

  it("picks the least loaded rig: active beads per polecat slot", () => {
    const decision = choose([rig("a", { active: 2, maxPolecats: 2 }), rig("b", { active: 3, maxPolecats: 6 }), rig("c", { active: 2, maxPolecats: 3 })], []);
    expect(decision.ok && decision.rig.name).toBe("b");
    expect(decision.ok && decision.reason).toBe("b: least loaded; loads b 0.50 (3/6), c 0.67 (2/3), a 1.00 (2/2)");
  });

  it("breaks a tie on load by fewer total beads, then by name", () => {
    const byTotal = choose([rig("a", { total: 9 }), rig("b", { total: 4 })], []);
    expect(byTotal.ok && byTotal.rig.name).toBe("b");
    expect(byTotal.ok && byTotal.reason).toMatch(/^b: tied on load with a, fewer beads \(4 vs 9\)/);
    const byName = choose([rig("zeta"), rig("alpha")], []);
    expect(byName.ok && byName.rig.name).toBe("alpha");
    expect(byName.ok && byName.reason).toMatch(/^alpha: tied on load and beads with zeta, first by name/);
  });

  it("says when the pick was the only eligible rig, and what was required", () => {
    const decision = choose([rig("docs", { capabilities: ["docs"] }), rig("web")], ["docs"]);
    expect(decision.ok && decision.reason).toBe("docs: the only eligible rig requiring docs; loads docs 0.00 (0/2); not eligible: web (lacks docs)");
  });

  it("refuses with every rig and why when none is eligible", () => {
    const decision = choose([rig("web", { capabilities: ["ts"] }), rig("api", { status: "error", capabilities: ["go", "gpu"] })], ["gpu", "go"]);
    expect(decision.ok).toBe(false);
    if (decision.ok) return;
    expect(decision.refusals).toEqual([
      { rig: "api", why: "status error" },
      { rig: "web", why: "lacks gpu, go" },
    ]);
    expect(decision.message).toBe("no eligible rig for a bead requiring gpu, go: api: status error; web: lacks gpu, go");
    expect(choose([], []).ok).toBe(false);
  });
});

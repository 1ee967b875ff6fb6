/**
 * The one admission rule (party/access.ts), share-link paths (party/town/share.ts), per-token rate
 * limits (party/limits.ts) and git URL rules (party/protocol.ts), as tables.
 */
import { describe, expect, it } from "vitest";
import { admit, outputScope, townScope, type Purpose, type RoomRef } from "../../party/access.ts";
import { RATE_RULES, RateLimiter, take } from "../../party/limits.ts";
import { gitUrlProblem, redactGitUrl, type ShareView, type TokenPayload } from "../../party/protocol.ts";
import { pickScope, scopeKey } from "../../party/town/scope.ts";
import { parseSharePath } from "../../party/town/share.ts";

const A = "01J0000000000000000000AAA1";
const B = "01J0000000000000000000BBB1";
const TOWN: RoomRef = { party: "main", town: "demo" };
const RIG_A: RoomRef = { party: "rig", town: "demo", rigId: A, rigName: "alpha" };
const RIG_B: RoomRef = { party: "rig", town: "demo", rigId: B, rigName: "beta" };
const tools: Purpose = { kind: "tools" };
const doc = (name: "town" | "scope" | "mail" | "rig"): Purpose => ({ kind: "doc", doc: name });

function token(fields: Partial<TokenPayload>): TokenPayload {
  return { sub: "x", town: "demo", iat: 1, exp: 2, jti: "j", role: "operator", ...fields };
}
const viewer = (view?: ShareView, rig?: string) => token({ role: "viewer", ...(view ? { view } : {}), ...(rig ? { rig } : {}) });
const ok = (t: TokenPayload, room: RoomRef, purpose: Purpose) => admit(t, room, purpose).ok;

describe("admission (one rule for both rooms)", () => {
  it("refuses a token of another town everywhere", () => {
    for (const room of [TOWN, RIG_A])
      for (const p of [tools, doc(room.party === "main" ? "town" : "rig")]) expect(ok(token({ town: "other" }), room, p)).toBe(false);
  });

  it("town-wide operators reach every document and tool", () => {
    const op = token({ role: "operator" });
    expect([ok(op, TOWN, tools), ok(op, TOWN, doc("town")), ok(op, TOWN, doc("mail")), ok(op, RIG_A, tools), ok(op, RIG_A, doc("rig"))]).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(admit(op, TOWN, tools)).toEqual({ ok: true, identity: "operator" });
  });

  it("a rig-scoped operator acts in its rig only, reads its part of the town (scope), never the town document or its mail", () => {
    const op = token({ role: "operator", rig: A });
    expect([ok(op, RIG_A, tools), ok(op, RIG_A, doc("rig")), ok(op, RIG_B, tools), ok(op, RIG_B, doc("rig"))]).toEqual([true, true, false, false]);
    expect([ok(op, TOWN, doc("town")), ok(op, TOWN, doc("scope")), ok(op, TOWN, doc("mail"))]).toEqual([false, true, false]);
    expect(townScope(op)).toEqual({ kind: "rigs", rigs: [A] });
    // A town-wide operator reads the town document, not a part of it.
    expect([ok(token({ role: "operator" }), TOWN, doc("scope")), townScope(token({ role: "operator" }))]).toEqual([false, null]);
  });

  it("viewers read documents and call no tool; a plain viewer token never reads the town's mail", () => {
    const v = viewer();
    expect([ok(v, TOWN, tools), ok(v, RIG_A, tools)]).toEqual([false, false]);
    expect([ok(v, TOWN, doc("town")), ok(v, TOWN, doc("mail")), ok(v, RIG_A, doc("rig"))]).toEqual([true, false, true]);
    // A rig-scoped viewer reads its rig's document and nothing of the town's.
    const scoped = viewer(undefined, A);
    expect(
      [doc("town"), doc("scope"), doc("mail")].map((p) => ok(scoped, TOWN, p)).concat([ok(scoped, RIG_A, doc("rig")), ok(scoped, RIG_B, doc("rig"))]),
    ).toEqual([false, false, false, true, false]);
  });

  it("a share link grants exactly the documents of its view: a rig, bead or agent link no part of the town", () => {
    const cases: [ShareView, boolean[]][] = [
      //                                      town  scope  mail   rig a  rig b
      [{ kind: "town" }, [true, false, false, false, false]],
      [{ kind: "rig", rig: A }, [false, false, false, true, false]],
      [{ kind: "bead", rig: A, bead: B }, [false, false, false, true, false]],
      [{ kind: "agent", rig: B, agent: "toast" }, [false, false, false, false, true]],
      [{ kind: "convoy", convoy: A }, [false, true, false, false, false]],
      [{ kind: "mail" }, [true, false, true, false, false]],
    ];
    for (const [view, expected] of cases) {
      const v = viewer(view);
      expect(
        [ok(v, TOWN, doc("town")), ok(v, TOWN, doc("scope")), ok(v, TOWN, doc("mail")), ok(v, RIG_A, doc("rig")), ok(v, RIG_B, doc("rig"))],
        JSON.stringify(view),
      ).toEqual(expected);
    }
    expect(townScope(viewer({ kind: "convoy", convoy: A }))).toEqual({ kind: "convoy", convoy: A });
    expect(townScope(viewer({ kind: "rig", rig: A }))).toBeNull();
  });

  it("the scope document holds a convoy link's convoy only, a rig-scoped operator's rigs and the convoys they are in", () => {
    const C = "01J0000000000000000000CCC1";
    const rig = (id: string, name: string) => [id, { id, name }] as never;
    const bead = (rigId: string, rigName: string) => ({ rigId, rigName, beadId: A, title: `in ${rigName}`, status: "open", reason: "", rev: 1 });
    const convoy = (id: string, ...beads: ReturnType<typeof bead>[]) => [id, { id, title: id, status: "open", createdAt: 1, beads }] as never;
    const source = () => ({
      rigs: [rig(A, "alpha"), rig(B, "beta"), rig(C, "gamma")],
      convoys: [convoy("c1", bead(A, "alpha"), bead(B, "beta")), convoy("c2", bead(C, "gamma")), convoy("c3", bead(B, "beta"))],
    });
    const link = pickScope({ kind: "convoy", convoy: "c1" }, source());
    expect([Object.keys(link.rigs!), Object.keys(link.convoys!)]).toEqual([[], ["c1"]]);
    const op = pickScope({ kind: "rigs", rigs: [B] }, source());
    expect([Object.keys(op.rigs!), Object.keys(op.convoys!)]).toEqual([[B], ["c1", "c3"]]);
    expect(JSON.stringify(op)).not.toContain("gamma");
    expect(scopeKey({ kind: "rigs", rigs: [B, A] })).toBe(scopeKey({ kind: "rigs", rigs: [A, B] }));
  });

  it("agents act through their tool socket, in their own rig; only a town-wide agent token named mayor acts in the town", () => {
    const toast = token({ role: "agent", rig: A, agent: "alpha/polecats/toast" });
    expect(admit(toast, RIG_A, tools)).toEqual({ ok: true, identity: "alpha/polecats/toast" });
    expect([ok(toast, RIG_B, tools), ok(toast, TOWN, tools), ok(toast, RIG_A, doc("rig"))]).toEqual([false, false, false]);
    // An agent token whose identity names another rig than its scope.
    expect(ok(token({ role: "agent", rig: A, agent: "beta/polecats/toast" }), RIG_A, tools)).toBe(false);
    expect(admit(token({ role: "agent", agent: "mayor" }), TOWN, tools)).toEqual({ ok: true, identity: "mayor" });
    expect(ok(token({ role: "agent", agent: "mayor", rig: A }), TOWN, tools)).toBe(false);
    expect(ok(token({ role: "agent", agent: "mayor" }), TOWN, doc("town"))).toBe(false);
  });

  it("containers read only the registry; a sharded one reaches only its rigs", () => {
    const c = token({ role: "container" });
    expect([ok(c, TOWN, doc("town")), ok(c, TOWN, doc("mail")), ok(c, RIG_A, doc("rig")), ok(c, RIG_A, tools)]).toEqual([true, false, false, true]);
    const sharded = token({ role: "container", rigs: [A] });
    expect([ok(sharded, RIG_A, tools), ok(sharded, RIG_B, tools), ok(sharded, TOWN, doc("town"))]).toEqual([true, false, true]);
  });

  it("answers UNKNOWN_RIG for a document the room does not have", () => {
    expect(admit(token({}), TOWN, doc("rig"))).toMatchObject({ ok: false, code: "UNKNOWN_RIG" });
    expect(admit(token({}), RIG_A, doc("mail"))).toMatchObject({ ok: false, code: "UNKNOWN_RIG" });
  });
});

describe("agents' output (output sockets and gt_agent_log)", () => {
  const watch = (identity: string): Purpose => ({ kind: "output", identity });
  const BEAD = "01J0000000000000000000BEAD";
  const agentLink = viewer({ kind: "agent", rig: A, agent: "toast" });
  const beadLink = viewer({ kind: "bead", rig: A, bead: BEAD });

  it("operators of the rig read all of it; a link for an agent that agent's; a link for a bead that bead's runs", () => {
    expect(outputScope(token({ role: "operator" }), RIG_A)).toEqual({});
    expect(outputScope(token({ role: "operator", rig: A }), RIG_A)).toEqual({});
    expect(outputScope(agentLink, RIG_A)).toEqual({ agent: "toast" });
    expect(outputScope(beadLink, RIG_A)).toEqual({ bead: BEAD });
  });

  it("nobody else reads any: other rigs' operators and links, plain viewers, rig and town links, agents, containers, the town room", () => {
    for (const t of [
      token({ role: "operator", rig: B }),
      viewer({ kind: "agent", rig: B, agent: "toast" }),
      viewer(),
      viewer(undefined, A),
      viewer({ kind: "rig", rig: A }),
      viewer({ kind: "town" }),
      viewer({ kind: "mail" }),
      token({ role: "agent", rig: A, agent: "alpha/polecats/toast" }),
      token({ role: "container" }),
    ]) {
      expect(outputScope(t, RIG_A)).toBeNull();
      expect(ok(t, RIG_A, watch("alpha/polecats/toast"))).toBe(false);
      expect(ok(t, RIG_A, { kind: "tools", tool: "gt_agent_log" }) && t.role === "viewer").toBe(false);
    }
    expect(outputScope(token({ role: "operator" }), TOWN)).toBeNull();
  });

  it("a socket watches an agent of this rig only, and an agent link only its agent", () => {
    expect(ok(token({ role: "operator" }), RIG_A, watch("alpha/polecats/toast"))).toBe(true);
    expect(ok(agentLink, RIG_A, watch("alpha/polecats/toast"))).toBe(true);
    expect(ok(agentLink, RIG_A, watch("alpha/polecats/maple"))).toBe(false);
    expect(ok(beadLink, RIG_A, watch("alpha/polecats/maple"))).toBe(true); // sees only its bead's runs (the room filters)
    expect(admit(token({ role: "operator" }), RIG_A, watch("beta/polecats/toast"))).toMatchObject({ ok: false, code: "UNKNOWN_RIG" });
    expect(admit(token({ role: "operator" }), RIG_A, watch("mayor"))).toMatchObject({ ok: false, code: "UNKNOWN_RIG" });
    expect(admit(token({ role: "operator" }), TOWN, watch("alpha/polecats/toast"))).toMatchObject({ ok: false, code: "UNKNOWN_RIG" });
  });

  it("a link calls gt_agent_log over HTTP and nothing else; it still has no tool socket", () => {
    expect(ok(agentLink, RIG_A, { kind: "tools", tool: "gt_agent_log" })).toBe(true);
    expect(ok(beadLink, RIG_A, { kind: "tools", tool: "gt_agent_log" })).toBe(true);
    expect(ok(agentLink, RIG_B, { kind: "tools", tool: "gt_agent_log" })).toBe(false);
    expect(ok(agentLink, RIG_A, { kind: "tools", tool: "gt_list_beads" })).toBe(false);
    expect(ok(agentLink, RIG_A, tools)).toBe(false);
  });
});

describe("share link paths", () => {
  it("match the dashboard's routes of one town exactly, written one way", () => {
    expect(parseSharePath("/t/alpha", "alpha")).toEqual({ ok: true, view: { kind: "town" }, path: "/t/alpha" });
    expect(parseSharePath("/t/alpha/", "alpha")).toEqual({ ok: true, view: { kind: "town" }, path: "/t/alpha" });
    expect(parseSharePath("/t/alpha/rigs/web", "alpha")).toMatchObject({ ok: true, view: { kind: "rig", rig: "web" } });
    expect(parseSharePath(`/t/alpha/rigs/web/beads/${A}`, "alpha")).toMatchObject({ ok: true, view: { kind: "bead", rig: "web", bead: A } });
    expect(parseSharePath("/t/alpha/rigs/web/agents/toast", "alpha")).toMatchObject({ ok: true, view: { kind: "agent", rig: "web", agent: "toast" } });
    expect(parseSharePath(`/t/alpha/convoys/${A}`, "alpha")).toMatchObject({ ok: true, view: { kind: "convoy", convoy: A } });
    expect(parseSharePath("/t/alpha/mail", "alpha")).toMatchObject({ ok: true, view: { kind: "mail" } });
    expect(parseSharePath("/t/alpha/rig%73/web", "alpha")).toMatchObject({ ok: true, path: "/t/alpha/rigs/web" });
  });

  it.each([
    "/t/alphabet",
    "/t/alpha/../beta",
    "/t/alpha/./mail",
    "/t/alpha//mail",
    "/t/alpha/rigs/a%2F..",
    "/t/alpha/rigs",
    "/t/alpha/rigs/web/beads/not-an-id",
    "/t/alpha/rigs/web/files",
    "/t/alpha/mail/x",
    "/t/beta",
    "t/alpha",
    "/t/alpha/%E0%A4%A",
  ])("refuse %s", (path) => {
    expect(parseSharePath(path, "alpha").ok).toBe(false);
  });
});

describe("rate limits", () => {
  it("a bucket gives its burst at once, then refills at its rate, and says when to come back", () => {
    const rule = { burst: 3, perMinute: 60 };
    let bucket = undefined as ReturnType<typeof take>["bucket"] | undefined;
    for (let i = 0; i < 3; i++) {
      const t = take(bucket, rule, 1, 0);
      expect(t.ok).toBe(true);
      bucket = t.bucket;
    }
    const refused = take(bucket, rule, 1, 0);
    expect(refused).toMatchObject({ ok: false, retryAfterMs: 1000 });
    expect(take(refused.bucket, rule, 1, 1000).ok).toBe(true);
    expect(take(undefined, rule, 4, 0)).toMatchObject({ ok: false, retryAfterMs: Infinity });
  });

  it("one token's flood does not spend another's budget", () => {
    const limiter = new RateLimiter();
    let refusedAt = -1;
    for (let i = 0; i < RATE_RULES.mail.burst + 1; i++) if (limiter.take("flooder", "mail", 1, 0) !== null && refusedAt < 0) refusedAt = i;
    expect(refusedAt).toBe(RATE_RULES.mail.burst);
    expect(limiter.take("someone-else", "mail", 1, 0)).toBeNull();
    expect(limiter.take("flooder", "escalation", 1, 0)).toBeNull();
  });
});

describe("git URLs", () => {
  it.each([
    "https://github.com/acme/web.git",
    "ssh://git@host/x.git",
    "git@github.com:acme/web.git",
    "git://host/x",
    "file:///srv/repo.git",
    "/srv/repos/web.git",
  ])("allow %s", (url) => {
    expect(gitUrlProblem(url)).toBeNull();
  });

  it.each(["ext::sh -c touch% /tmp/pwned", "fd::17", "--upload-pack=evil", "http://host/x.git", "ftp://host/x", "relative/path", "https://host/x y"])(
    "refuse %s",
    (url) => {
      expect(gitUrlProblem(url)).not.toBeNull();
    },
  );

  it("never show credentials", () => {
    expect(redactGitUrl("https://bot:ghp_secret123@github.com/acme/web.git")).toBe("https://bot:***@github.com/acme/web.git");
    expect(redactGitUrl("https://ghp_0123456789abcdefghijklmn@github.com/a.git")).toBe("https://***@github.com/a.git");
    expect(redactGitUrl("https://host/a.git?access_token=abc&x=1")).toBe("https://host/a.git?access_token=***&x=1");
    expect(redactGitUrl("git@github.com:acme/web.git")).toBe("git@github.com:acme/web.git");
  });
});

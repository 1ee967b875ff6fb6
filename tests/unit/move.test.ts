/**
 * Moving a bead between rigs (W16), the pure plan (party/town/move.ts): which rig is asked to close
 * the bead, the answers to moves made already, the source rig's reply read as the move's notice,
 * and the town's steps for a notice (the successor's creation, the index, the feed line).
 */
import { describe, expect, it } from "vitest";
import { refusal } from "../helpers/refusal.ts";
import type { BeadPayload } from "../../party/town/entries.ts";
import { movedNotice, moveSteps, planMove, type MovedNotice, type RigLookup } from "../../party/town/move.ts";
import { emptySummary } from "../../party/summary.ts";
import { ToolError, type Rig } from "../../party/protocol.ts";

const API = "01J0000000000000000000APA1";
const WEB = "01J0000000000000000000WEB1";
const DOCS = "01J0000000000000000000D0C1";
const BEAD = "01J0000000000000000000BEA1";
const NEXT = "01J0000000000000000000NXT1";
const CONVOY = "01J0000000000000000000CVY1";

const rig = (id: string, name: string): Rig => ({
  id,
  name,
  gitUrl: "/r",
  defaultBranch: "main",
  capabilities: [],
  maxPolecats: 2,
  status: "ready",
  createdAt: 0,
  summary: emptySummary(0),
});
const api = rig(API, "api");
const web = rig(WEB, "web");
const docs = rig(DOCS, "docs");

const registry: RigLookup = {
  byId: (id) => [api, web, docs].find((r) => r.id === id),
  byName: (name) => {
    const found = [api, web, docs].find((r) => r.name === name);
    if (!found) throw new ToolError("UNKNOWN_RIG", `no rig named ${name} in town demo`);
    return found;
  },
};

const nextId = () => NEXT;

describe("the move's plan", () => {
  it("asks the rig the town placed the bead in, under a new id for its successor", () => {
    expect(planMove({ bead_id: BEAD, rig: "web" }, web, { rigId: API }, registry, nextId)).toEqual({
      kind: "ask",
      source: api,
      request: { bead_id: BEAD, to_rig: "web", to_rig_id: WEB, new_bead_id: NEXT },
    });
    // `from` may name the same rig.
    expect(planMove({ bead_id: BEAD, rig: "web", from: "api" }, web, { rigId: API }, registry, nextId)).toMatchObject({ kind: "ask", source: api });
  });

  it("asks the rig the caller names when the town did not place the bead (or forgot it), and refuses without one", () => {
    expect(planMove({ bead_id: BEAD, rig: "web", from: "docs" }, web, undefined, registry, nextId)).toMatchObject({ kind: "ask", source: docs });
    expect(refusal(() => planMove({ bead_id: BEAD, rig: "web" }, web, undefined, registry, nextId))).toEqual({
      code: "INVALID_ARGS",
      message: `from: required: the town did not place bead ${BEAD} (or no longer remembers it); name the rig it is in`,
    });
    expect(refusal(() => planMove({ bead_id: BEAD, rig: "web", from: "nope" }, web, undefined, registry, nextId)).code).toBe("UNKNOWN_RIG");
  });

  it("refuses a `from` that is not where the town placed the bead, a rig removed since, and the target itself", () => {
    expect(refusal(() => planMove({ bead_id: BEAD, rig: "web", from: "docs" }, web, { rigId: API }, registry, nextId))).toEqual({
      code: "INVALID_ARGS",
      message: `from: bead ${BEAD} is in rig api (the town placed it there), not docs`,
    });
    expect(refusal(() => planMove({ bead_id: BEAD, rig: "web" }, web, { rigId: "01J0000000000000000000G0NE" }, registry, nextId))).toEqual({
      code: "UNKNOWN_RIG",
      message: `the rig bead ${BEAD} was placed in was removed`,
    });
    expect(refusal(() => planMove({ bead_id: BEAD, rig: "api" }, api, { rigId: API }, registry, nextId))).toEqual({
      code: "INVALID_ARGS",
      message: `rig: bead ${BEAD} is in rig api already`,
    });
    expect(refusal(() => planMove({ bead_id: BEAD, rig: "api", from: "api" }, api, undefined, registry, nextId)).code).toBe("INVALID_ARGS");
  });

  it("answers a move made already from the index, and refuses one to another rig", () => {
    const moved = { rigId: API, movedTo: { rigId: WEB, rig: "web", beadId: NEXT } };
    expect(planMove({ bead_id: BEAD, rig: "web" }, web, moved, registry, nextId)).toEqual({
      kind: "answered",
      result: { bead_id: NEXT, rig: "web", moved_from: { rig: "api", bead_id: BEAD } },
    });
    expect(refusal(() => planMove({ bead_id: BEAD, rig: "docs" }, docs, moved, registry, nextId))).toEqual({
      code: "CONFLICT",
      message: `bead ${BEAD} was moved to rig web already (as bead ${NEXT})`,
    });
    // The source rig removed since: the answer names the rig the caller gave, if any.
    const fromGone = { ...moved, rigId: "01J0000000000000000000G0NE" };
    expect(planMove({ bead_id: BEAD, rig: "web", from: "old" }, web, fromGone, registry, nextId)).toMatchObject({ result: { moved_from: { rig: "old" } } });
  });
});

const notice: MovedNotice = {
  bead_id: BEAD,
  from_rig: "api",
  from_rig_id: API,
  to_rig: "web",
  to_rig_id: WEB,
  new_bead_id: NEXT,
  title: "fix it",
  body: "the body",
  priority: "high",
  requires: ["ts"],
  convoy_id: CONVOY,
};

describe("the source rig's answer", () => {
  it("is the move's notice, for the target the town knows", () => {
    expect(movedNotice({ status: 200, body: { ok: true, value: notice } }, api, web, BEAD)).toEqual(notice);
  });

  it("passes the rig's client errors on, and anything else as INTERNAL (calling again resumes)", () => {
    expect(refusal(() => movedNotice({ status: 409, body: { ok: false, error: { code: "CONFLICT", message: "bead is closed" } } }, api, web, BEAD))).toEqual({
      code: "CONFLICT",
      message: "bead is closed",
    });
    expect(refusal(() => movedNotice({ status: 404, body: { ok: false, error: { code: "UNKNOWN_BEAD", message: "no bead" } } }, api, web, BEAD)).code).toBe(
      "UNKNOWN_BEAD",
    );
    expect(refusal(() => movedNotice({ status: 500, body: { ok: false, error: { code: "CONFLICT", message: "boom" } } }, api, web, BEAD))).toEqual({
      code: "INTERNAL",
      message: "boom",
    });
    expect(refusal(() => movedNotice({ status: 400, body: { ok: false, error: { code: "MADE_UP" } } }, api, web, BEAD)).code).toBe("INTERNAL");
    expect(refusal(() => movedNotice({ status: 502, body: null }, api, web, BEAD))).toEqual({
      code: "INTERNAL",
      message: "rig api answered HTTP 502; call again: the move resumes where it stopped",
    });
  });

  it("refuses when the rig had moved the bead to another rig before", () => {
    expect(refusal(() => movedNotice({ status: 200, body: { ok: true, value: { ...notice, to_rig: "docs", to_rig_id: DOCS } } }, api, web, BEAD))).toEqual({
      code: "CONFLICT",
      message: `bead ${BEAD} was moved to rig docs already (as bead ${NEXT})`,
    });
  });
});

describe("the town's steps for a move", () => {
  it("create the successor in the target rig, index both beads and say so in the feed", () => {
    const steps = moveSteps(notice, web, { rigId: API }, 50);
    expect(steps.kind).toBe("apply");
    if (steps.kind !== "apply") return;
    expect(steps.result).toEqual({ bead_id: NEXT, rig: "web", moved_from: { rig: "api", bead_id: BEAD } });
    expect(steps.successor).toEqual({ rigId: WEB, rigName: "web", beadId: NEXT, title: "fix it", status: "open", reason: "moved from api", rev: 0 });
    expect(steps.entries.map((e) => [e.key, e.kind, e.createdAt])).toEqual([[`bead-${NEXT}`, "bead", 50]]);
    expect(steps.entries[0]!.payload as BeadPayload).toEqual({
      rig_id: WEB,
      bead: {
        id: NEXT,
        title: "fix it",
        body: "the body",
        priority: "high",
        requires: ["ts"],
        reason: "moved from api by the operator",
        moved_from: { rig: "api", bead_id: BEAD },
        convoy_id: CONVOY,
      },
    });
    expect(steps.index).toEqual([
      [BEAD, { rigId: API, movedTo: { rigId: WEB, rig: "web", beadId: NEXT } }],
      [NEXT, { rigId: WEB }],
    ]);
    expect(steps.added).toBe(1); // the old bead's key was there
    expect(steps.feed).toEqual({ kind: "moved", text: `bead ${BEAD.slice(-8)} "fix it" moved from api to web as ${NEXT.slice(-8)}` });
  });

  it("count both index keys as new for a bead the town did not place, and carry no convoy for a bead without one", () => {
    const { convoy_id: _, ...loose } = notice;
    const steps = moveSteps(loose, web, undefined, 50);
    if (steps.kind !== "apply") throw new Error("expected steps");
    expect(steps.added).toBe(2);
    expect("convoy_id" in (steps.entries[0]!.payload as BeadPayload).bead).toBe(false);
  });

  it("create nothing when the target rig was removed meanwhile: the old bead is indexed as moved, and the feed says it failed", () => {
    const steps = moveSteps(notice, undefined, { rigId: API }, 50);
    if (steps.kind !== "apply") throw new Error("expected steps");
    expect(steps.entries).toEqual([]);
    expect(steps.index).toEqual([[BEAD, { rigId: API, movedTo: { rigId: WEB, rig: "web", beadId: NEXT } }]]);
    expect(steps.added).toBe(0);
    expect(steps.feed).toEqual({ kind: "failed", text: `bead ${BEAD.slice(-8)} "fix it" was moved to rig web, which was removed meanwhile` });
  });

  it("are applied once: a notice the index has already answers with the successor it made", () => {
    const earlier = { rigId: API, movedTo: { rigId: WEB, rig: "web", beadId: "01J0000000000000000000FRST" } };
    expect(moveSteps(notice, web, earlier, 50)).toEqual({
      kind: "applied",
      result: { bead_id: "01J0000000000000000000FRST", rig: "web", moved_from: { rig: "api", bead_id: BEAD } },
    });
  });
});

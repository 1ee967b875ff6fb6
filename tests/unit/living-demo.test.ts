/**
 * The living demo's plan (scripts/living-demo.ts) and what npm start says about the town
 * (scripts/terminal.ts): every piece of work is something the scripted agent runs as meant, a
 * failing bead fails with a reason and passes once retried, the deck has every kind in every
 * round, and the demo holds back within its bounds.
 */
import { describe, expect, it } from "vitest";
import { parseSteps, stepsForRun } from "../../container/agents/scripted.ts";
import { DEMO_BOUNDS, DEMO_KINDS, DemoPlanner, demoHold, nextDelayMs, parseEvery, type DemoBead, type DemoWork } from "../../scripts/living-demo.ts";
import { convoyLine, failedBeadLine, failureReason } from "../../scripts/terminal.ts";

/** A small seeded PRNG (mulberry32), so each test's choices are the same every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function beadsOf(work: DemoWork): DemoBead[] {
  switch (work.kind) {
    case "convoy":
      return work.beads;
    case "bead":
      return [work.bead];
    case "handoff":
      return [work.waiter, work.sender("backend/polecats/maple")];
  }
}

/** The steps of each run, as the scripted agent would take them: runs 1–3 fail at most, run 4 is after an operator's retry. */
function runs(bead: DemoBead) {
  const steps = parseSteps(bead.body);
  return {
    steps,
    first: stepsForRun(steps, { attempts: 0, runs: 1 }),
    second: stepsForRun(steps, { attempts: 1, runs: 2 }),
    third: stepsForRun(steps, { attempts: 2, runs: 3 }),
    retried: stepsForRun(steps, { attempts: 0, runs: 4 }),
  };
}

const exitOf = (steps: ReturnType<typeof parseSteps>) => steps.find((s) => s.kind === "exit");

describe("the living demo's work", () => {
  const planner = new DemoPlanner(seeded(7), () => 1_800_000_000_000);
  const works = [planner.opener(), ...DEMO_KINDS.flatMap((kind) => Array.from({ length: 6 }, () => planner.make(kind)))];

  it("is written wholly in the scripted agent's language (no line it would skip as prose)", () => {
    for (const bead of works.flatMap(beadsOf)) expect(parseSteps(bead.body), bead.body).toHaveLength(bead.body.split("\n").length);
  });

  it("never leaves an agent silent long enough for the witness to call it hung, but where it means to hang", () => {
    for (const bead of works.flatMap(beadsOf))
      for (const step of parseSteps(bead.body)) if (step.kind === "sleep") expect(step.ms, bead.title).toBeLessThanOrEqual(12_000);
  });

  it("writes a file of its own in every bead, so no two demo merges conflict", () => {
    const paths = works.flatMap(beadsOf).map((bead) => {
      const writes = parseSteps(bead.body).filter((s) => s.kind === "write");
      expect(writes, bead.title).toHaveLength(1);
      return (writes[0] as { path: string }).path;
    });
    expect(new Set(paths).size).toBe(paths.length);
  });

  it("opens with agents at work and one bead that fails in every run until an operator retries it", () => {
    const opener = planner.opener();
    expect(opener.kind).toBe("convoy");
    const failing = beadsOf(opener).filter((bead) => exitOf(runs(bead).first));
    expect(failing).toHaveLength(1);
    const { first, second, third, retried } = runs(failing[0]!);
    for (const run of [first, second, third]) expect(exitOf(run)).toMatchObject({ code: 4, text: expect.stringMatching(/sessions.*already exists/) });
    expect(exitOf(retried)).toBeUndefined();
    expect(retried.some((s) => s.kind === "write")).toBe(true);
    // The others work a while and say what they do.
    for (const bead of beadsOf(opener).filter((b) => b !== failing[0])) {
      const steps = runs(bead).first;
      expect(steps.map((s) => s.kind)).toEqual(["say", "sleep", "say", "sleep", "say", "sleep", "say", "write"]);
      // Long enough to be seen at work, never silent long enough for the witness (30 s) to call it hung.
      const pauses = steps.flatMap((s) => (s.kind === "sleep" ? [s.ms] : []));
      expect(pauses.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(15_000);
      expect(Math.max(...pauses)).toBeLessThanOrEqual(12_000);
    }
  });

  it("fails: every run exits non-zero with a line on stderr saying why, and the run after a retry passes", () => {
    for (const work of Array.from({ length: 8 }, () => planner.make("fails"))) {
      const { first, third, retried } = runs(beadsOf(work)[0]!);
      expect(exitOf(first)?.code).toBeGreaterThan(0);
      expect(exitOf(first)?.text?.length).toBeGreaterThan(10);
      expect(exitOf(third)).toEqual(exitOf(first));
      expect(exitOf(retried)).toBeUndefined();
    }
  });

  it("flaky: fails on the first try only; hangs: silent on the first run only", () => {
    const flaky = runs(beadsOf(planner.make("flaky"))[0]!);
    expect(exitOf(flaky.first)?.text).toBeTruthy();
    expect(exitOf(flaky.second)).toBeUndefined();
    const hangs = runs(beadsOf(planner.make("hangs"))[0]!);
    expect(hangs.first.map((s) => s.kind)).toContain("hang");
    expect(hangs.second.map((s) => s.kind)).not.toContain("hang");
  });

  it("handoff: a backend bead waits for mail, and its sender in another rig mails the polecat that holds it", () => {
    const work = planner.make("handoff");
    if (work.kind !== "handoff") throw new Error(`a handoff, not ${work.kind}`);
    expect(work.waiter.rig).toBe("backend");
    expect(parseSteps(work.waiter.body).map((s) => s.kind)).toContain("await-mail");
    const sender = work.sender("backend/polecats/birch");
    expect(sender.rig).toBe(work.senderRig);
    expect(["frontend", "docs"]).toContain(sender.rig);
    expect(parseSteps(sender.body).filter((s) => s.kind === "mail")).toEqual([expect.objectContaining({ to: "backend/polecats/birch" })]);
  });

  it("deals every kind once a round, in a random order, never the same kind twice in a row", () => {
    const dealer = new DemoPlanner(seeded(11));
    const kinds: string[] = [];
    const kindOf = (work: DemoWork) => {
      if (work.kind === "handoff") return "handoff";
      if (work.kind === "convoy") return "release";
      const steps = parseSteps(work.bead.body);
      if (steps.some((s) => s.kind === "hang")) return "hangs";
      if (steps.some((s) => s.kind === "exit" && s.once)) return "flaky";
      if (steps.some((s) => s.kind === "exit")) return "fails";
      return "steady";
    };
    for (let i = 0; i < DEMO_KINDS.length * 10; i++) kinds.push(kindOf(dealer.next({ handoffPending: false })));
    for (let round = 0; round < 10; round++)
      expect(new Set(kinds.slice(round * DEMO_KINDS.length, (round + 1) * DEMO_KINDS.length))).toEqual(new Set(DEMO_KINDS));
    for (let i = 1; i < kinds.length; i++) expect(kinds[i], `at ${i}`).not.toBe(kinds[i - 1]);
    expect(kinds.slice(0, 6)).not.toEqual(kinds.slice(6, 12)); // shuffled anew each round
  });

  it("holds a handoff back while another is in flight", () => {
    const dealer = new DemoPlanner(seeded(3));
    const kinds = Array.from({ length: 60 }, () => dealer.next({ handoffPending: true }).kind);
    expect(kinds).not.toContain("handoff");
  });
});

describe("the living demo's bounds and pace", () => {
  it("slings while the town is within its bounds", () => {
    expect(demoHold({ active: 0, failed: 0 })).toBeNull();
    expect(demoHold({ active: DEMO_BOUNDS.activeBeads - 1, failed: DEMO_BOUNDS.failedBeads - 1 })).toBeNull();
  });

  it("holds back while too many beads are active, and says why", () => {
    expect(demoHold({ active: DEMO_BOUNDS.activeBeads, failed: 0 })).toEqual({ needs: "time", why: "8 beads are open or in progress" });
  });

  it("holds back while failed beads wait for the operator, and says what to do", () => {
    expect(demoHold({ active: 0, failed: DEMO_BOUNDS.failedBeads })).toEqual({
      needs: "operator",
      why: expect.stringMatching(/^4 failed beads wait for you \(retry, move or close/),
    });
    expect(demoHold({ active: 20, failed: 2 }, { activeBeads: 8, failedBeads: 2 })).toMatchObject({
      needs: "operator",
      why: expect.stringMatching(/^2 failed beads/),
    });
  });

  it("reads --every as seconds, a range or one number", () => {
    expect(parseEvery("20-40")).toEqual([20, 40]);
    expect(parseEvery("5")).toEqual([5, 5]);
    for (const bad of ["", "0", "40-20", "1-4000", "a-b", "-5", "5-", "1.5"]) expect(parseEvery(bad), bad).toBeNull();
  });

  it("waits within the range", () => {
    expect(nextDelayMs([20, 40], () => 0)).toBe(20_000);
    expect(nextDelayMs([20, 40], () => 0.5)).toBe(30_000);
    expect(nextDelayMs([20, 40], () => 0.999_999)).toBeLessThanOrEqual(40_000);
  });
});

describe("what npm start says about the town", () => {
  it("names a failed bead, its rig and why, short", () => {
    expect(
      failedBeadLine({ title: "Add login", failure: "backend/polecats/toast exited (exit 4) before done; gave up after 3 runs", attempts: 3 }, "backend"),
    ).toBe('bead "Add login" failed in backend: exit 4 (3 attempts)');
  });

  it("keeps a reason it does not know whole", () => {
    expect(failureReason("hung: no progress for 60 s; gave up after 3 runs")).toBe("hung: no progress for 60 s (3 attempts)");
    expect(failureReason("set failed by the operator")).toBe("set failed by the operator");
    expect(failureReason("backend/polecats/toast exited (signal SIGKILL) before done; gave up after 1 run")).toBe("signal SIGKILL (1 attempt)");
    expect(failureReason(undefined, 2)).toBe("no reason given (2 attempts)");
  });

  it("says a convoy's progress once something is done or failed, a failed bead never as done, and whether it landed or is stuck", () => {
    const bead = (status: "open" | "in_progress" | "closed" | "failed") => ({
      rigId: "r",
      rigName: "backend",
      beadId: "b",
      title: "t",
      status,
      reason: "",
      rev: 1,
    });
    expect(convoyLine({ title: "Polish sign-in", status: "open", beads: [bead("open"), bead("open")] })).toBeNull();
    expect(convoyLine({ title: "Polish sign-in", status: "open", beads: [bead("closed"), bead("open")] })).toBe('convoy "Polish sign-in": 1/2 done');
    expect(convoyLine({ title: "Polish sign-in", status: "stuck", beads: [bead("closed"), bead("failed")] })).toBe(
      'convoy "Polish sign-in": 1 done, 1 failed of 2 — stuck',
    );
    // Retried: the failed bead is in progress again, and the convoy open again (never "2/3 — landed").
    expect(convoyLine({ title: "Ship password reset", status: "open", beads: [bead("closed"), bead("closed"), bead("in_progress")] })).toBe(
      'convoy "Ship password reset": 2/3 done',
    );
    expect(convoyLine({ title: "Ship password reset", status: "landed", beads: [bead("closed"), bead("closed"), bead("closed")] })).toBe(
      'convoy "Ship password reset": 3/3 done — landed',
    );
  });
});

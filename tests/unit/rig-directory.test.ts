/**
 * The gate's memory of which rig rooms exist (party/rig-directory.ts): only rigs the registry lists,
 * asked again (shared and spaced) about anything else, so a rig added a moment ago is found and a
 * flood of made-up ids costs the town a bounded number of calls.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DIRECTORY_DEFAULTS, RigDirectory, rigRoomIdParts } from "../../party/rig-directory.ts";

const A = "01J0000000000000000000AAA1";
const B = "01J0000000000000000000BBB1";
const madeUp = (i: number) => `01J00000000000000000${String(i).padStart(6, "0")}`;
const { freshMs, askEveryMs } = DIRECTORY_DEFAULTS;

/** A town's registry as its room would list it, counting the calls; each takes `rttMs`. */
function registry(ids: string[], rttMs = 1) {
  const calls: number[] = [];
  const ask = async (town: string) => {
    calls.push(Date.now());
    await new Promise((r) => setTimeout(r, rttMs));
    if (town === "down") throw new Error("the town did not answer");
    return [...ids];
  };
  return { ids, calls, ask };
}

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

/** Runs `work` to its end with the fake clock moving on. */
async function settle<T>(work: Promise<T>): Promise<T> {
  let done = false;
  const outcome = work.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  void outcome.then(() => (done = true));
  while (!done) await vi.advanceTimersByTimeAsync(1);
  const settled = await outcome;
  if ("error" in settled) throw settled.error;
  return settled.value;
}

describe("rig room ids", () => {
  it("are <town>.<rig id, a ULID>; nothing else can be a rig room", () => {
    expect(rigRoomIdParts(`demo.${A}`)).toEqual({ town: "demo", rigId: A });
    for (const id of ["demo.XYZ", `demo.${A}.x`, `.${A}`, `Demo.${A}`, "demo", `demo.${A.toLowerCase()}`, `demo..${A}`]) expect(rigRoomIdParts(id)).toBeNull();
  });
});

describe("RigDirectory", () => {
  it("a made-up id is not a rig, by a listing asked after it arrived; the listing holds only the registry's rigs", async () => {
    const directory = new RigDirectory();
    const town = registry([A]);
    expect(await settle(directory.exists("demo", madeUp(1), town.ask))).toBe(false);
    expect(await settle(directory.exists("demo", A, town.ask))).toBe(true);
    expect(town.calls.length).toBe(1); // A came in the first listing
  });

  it("a thousand made-up ids at once cost one call", async () => {
    const directory = new RigDirectory();
    const town = registry([A]);
    const answers = await settle(Promise.all(Array.from({ length: 1_000 }, (_, i) => directory.exists("demo", madeUp(i), town.ask))));
    expect(answers.every((a) => a === false)).toBe(true);
    expect(town.calls.length).toBe(1);
  });

  it("a flood of made-up ids, one a millisecond for 10 s, costs at most one call per askEveryMs", async () => {
    const directory = new RigDirectory();
    const town = registry([A]);
    const asked: Promise<boolean>[] = [];
    for (let i = 0; i < 10_000; i++) {
      asked.push(directory.exists("demo", madeUp(i), town.ask));
      await vi.advanceTimersByTimeAsync(1);
    }
    expect((await settle(Promise.all(asked))).every((a) => a === false)).toBe(true);
    expect(town.calls.length).toBeLessThanOrEqual(10_000 / askEveryMs + 2);
    for (let i = 1; i < town.calls.length; i++) expect(town.calls[i]! - town.calls[i - 1]!).toBeGreaterThanOrEqual(askEveryMs);
  });

  it("a rig added a moment ago is found at once, though the town was asked just before", async () => {
    const directory = new RigDirectory();
    const town = registry([A]);
    expect(await settle(directory.exists("demo", B, town.ask))).toBe(false);
    town.ids.push(B); // added right after that answer
    expect(await settle(directory.exists("demo", B, town.ask))).toBe(true);
    expect(town.calls.length).toBe(2);
  });

  it("a known rig costs no call while its listing is fresh; a removed one is forgotten once it is not", async () => {
    const directory = new RigDirectory();
    const town = registry([A, B]);
    expect(await settle(directory.exists("demo", A, town.ask))).toBe(true);
    town.ids.splice(town.ids.indexOf(A), 1); // removed: its own room answers 4404 meanwhile
    await vi.advanceTimersByTimeAsync(freshMs - 10);
    expect(await settle(directory.exists("demo", A, town.ask))).toBe(true);
    expect(town.calls.length).toBe(1);
    await vi.advanceTimersByTimeAsync(10);
    expect(await settle(directory.exists("demo", A, town.ask))).toBe(false);
    expect(await settle(directory.exists("demo", B, town.ask))).toBe(true);
    expect(town.calls.length).toBe(2);
  });

  it("a town that does not answer: an unknown id is an error (not a 404), a known rig still passes to its room", async () => {
    const directory = new RigDirectory();
    const up = registry([A]);
    expect(await settle(directory.exists("demo", A, up.ask))).toBe(true);
    await vi.advanceTimersByTimeAsync(freshMs);
    const down = async () => Promise.reject(new Error("the town did not answer"));
    expect(await settle(directory.exists("demo", A, down))).toBe(true);
    await expect(settle(directory.exists("demo", B, down))).rejects.toThrow("the town did not answer");
    // A failed ask is not shared with what comes later: the next one asks again.
    expect(await settle(directory.exists("demo", B, registry([A, B]).ask))).toBe(true);
  });

  it("a request gives up on a town that never answers; the next one asks again", async () => {
    const directory = new RigDirectory();
    const silent = () => new Promise<readonly string[]>(() => {});
    const started = Date.now();
    await expect(settle(directory.exists("demo", A, silent))).rejects.toThrow("town demo did not list its rigs in time");
    expect(Date.now() - started).toBeLessThanOrEqual(DIRECTORY_DEFAULTS.askEveryMs + DIRECTORY_DEFAULTS.answerMs + 1);
    expect(await settle(directory.exists("demo", A, registry([A]).ask))).toBe(true);
  });

  it("keeps at most townsKept towns, the least recently asked forgotten first", async () => {
    const directory = new RigDirectory({ ...DIRECTORY_DEFAULTS, townsKept: 3 });
    const town = registry([A]);
    for (const name of ["t1", "t2", "t3", "t1", "t4"]) await settle(directory.exists(name, A, town.ask));
    expect(directory.size).toBe(3);
    const before = town.calls.length;
    await settle(directory.exists("t1", A, town.ask)); // kept: asked again after t2
    expect(town.calls.length).toBe(before);
    await settle(directory.exists("t2", A, town.ask)); // forgotten: asked anew
    expect(town.calls.length).toBe(before + 1);
  });
});

import { describe, expect, it } from "vitest";
import { AgentSlots } from "../../container/agent-slots.ts";

describe("agent slots", () => {
  it("runs at most `limit` at once, the rest in the order they asked, each release freeing one slot once", async () => {
    const slots = new AgentSlots(2);
    const order: number[] = [];
    const releases: (() => void)[] = [];
    const asks = [1, 2, 3, 4].map((n) => slots.acquire().then((release) => (order.push(n), releases.push(release))));
    await Promise.all(asks.slice(0, 2));
    expect(order).toEqual([1, 2]);
    expect([slots.busy, slots.queued]).toEqual([2, 2]);
    releases[0]!();
    releases[0]!(); // twice: still one slot
    await asks[2];
    expect(order).toEqual([1, 2, 3]);
    expect([slots.busy, slots.queued]).toEqual([2, 1]);
    releases[1]!();
    releases[2]!();
    await asks[3];
    releases[3]!();
    expect([slots.busy, slots.queued]).toEqual([0, 0]);
  });

  it("refuses a limit that is not a whole number ≥ 1", () => {
    expect(() => new AgentSlots(0)).toThrow(/whole number/);
  });
});

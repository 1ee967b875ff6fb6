import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TokenKeeper, tokenTiming } from "../../client/token-keeper.ts";
import { signToken } from "../../party/auth.ts";

const SECRET = "keeper-secret-0123456789abcdef";
const mint = (iat: number, exp: number) => signToken({ role: "container", town: "t", iat, exp }, SECRET);

beforeEach(() => vi.useFakeTimers({ now: 1_700_000_000_000 }));
afterEach(() => vi.useRealTimers());

describe("TokenKeeper", () => {
  it("reads a token's timing", async () => {
    expect(tokenTiming(await mint(1_700_000_000, 1_700_000_900))).toEqual({ iat: 1_700_000_000, exp: 1_700_000_900 });
    expect(tokenTiming("not-a-jwt")).toBeNull();
  });

  it("renews at two thirds of the lifetime, hands the new token out and tells its listeners", async () => {
    const first = await mint(1_700_000_000, 1_700_000_900); // 15 minutes
    const second = await mint(1_700_000_600, 1_700_001_500);
    const renew = vi.fn(async (current: string) => (expect(current).toBe(first), second));
    const keeper = new TokenKeeper(first, renew);
    const heard: string[] = [];
    keeper.onRenewed((t) => heard.push(t));
    keeper.start();
    await vi.advanceTimersByTimeAsync(599_000);
    expect(renew).not.toHaveBeenCalled();
    expect(keeper.current()).toBe(first);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(renew).toHaveBeenCalledTimes(1);
    expect(keeper.current()).toBe(second);
    expect(heard).toEqual([second]);
    keeper.stop();
  });

  it("tries again after a failed renewal, before the token expires", async () => {
    const first = await mint(1_700_000_000, 1_700_000_900);
    const second = await mint(1_700_000_700, 1_700_001_600);
    let calls = 0;
    const keeper = new TokenKeeper(first, async () => {
      if (++calls === 1) throw new Error("room unreachable");
      return second;
    });
    keeper.start();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(calls).toBe(1);
    expect(keeper.current()).toBe(first);
    await vi.advanceTimersByTimeAsync(60_000); // a tenth of the 300 s left, at most a minute
    expect(calls).toBe(2);
    expect(keeper.current()).toBe(second);
    keeper.stop();
  });
});

import { describe, expect, it } from "vitest";
import { townhallAddress } from "../../container/gt/address.ts";

describe("townhallAddress: Gas Town's mail addresses as Townhall's", () => {
  it.each([
    ["mayor/", "mayor"],
    ["mayor", "mayor"],
    ["overseer", "operator"],
    ["human", "operator"],
    ["operator", "operator"],
    ["alpha/toast", "alpha/polecats/toast"],
    ["greenplace/Toast", "greenplace/polecats/toast"],
    ["alpha/witness", "alpha/witness"],
    ["alpha/witness/", "alpha/witness"],
    ["alpha/refinery", "alpha/refinery"],
    ["alpha/polecats/toast", "alpha/polecats/toast"],
    ["alpha/polecats/Toast", "alpha/polecats/toast"],
    [" beta/maple ", "beta/polecats/maple"],
  ])("%j → %j", (gasTown, townhall) => {
    expect(townhallAddress(gasTown)).toEqual({ address: townhall });
  });

  it.each([
    ["alpha/", /no broadcast/],
    ["alpha", /a rig alone is not a mailbox/],
    ["list:oncall", /no mailing lists/],
    ["deacon/", /no deacon/],
    ["alpha/crew/max", /no crew/],
    ["alpha/dogs/rex", /no dogs/],
    ["Alpha/toast", /not an address/],
    ["alpha/1toast", /not an address/],
    ["alpha/polecats/toast/x", /not an address/],
    ["", /not an address/],
  ])("refuses %j, saying why", (gasTown, why) => {
    const mapped = townhallAddress(gasTown);
    expect(mapped).toEqual({ error: expect.stringMatching(why) });
  });
});

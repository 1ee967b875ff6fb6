/**
 * Share links past their path (tests/unit/access.test.ts reads paths): the view a link grants, the
 * link's token claims and record, and which links are still open.
 */
import { describe, expect, it } from "vitest";
import { newLink, shareView, sortLinks, tokenExp } from "../../party/town/share.ts";
import type { ShareLink } from "../../party/protocol.ts";

const rigId = (name: string) => {
  if (name !== "web") throw new Error(`no rig ${name}`);
  return "01J0000000000000000000WEB1";
};

describe("a share link", () => {
  it("grants its view with the rig named by id, and refuses a rig the town does not have", () => {
    expect(shareView({ kind: "rig", rig: "web" }, rigId)).toEqual({ kind: "rig", rig: "01J0000000000000000000WEB1" });
    expect(shareView({ kind: "bead", rig: "web", bead: "01J0000000000000000000BEA1" }, rigId)).toEqual({
      kind: "bead",
      rig: "01J0000000000000000000WEB1",
      bead: "01J0000000000000000000BEA1",
    });
    expect(shareView({ kind: "agent", rig: "web", agent: "toast" }, rigId)).toEqual({ kind: "agent", rig: "01J0000000000000000000WEB1", agent: "toast" });
    expect(shareView({ kind: "convoy", convoy: "01J0000000000000000000CVY1" }, rigId)).toEqual({ kind: "convoy", convoy: "01J0000000000000000000CVY1" });
    expect(shareView({ kind: "town" }, rigId)).toEqual({ kind: "town" });
    expect(() => shareView({ kind: "rig", rig: "api" }, rigId)).toThrow("no rig api");
  });

  it("is a viewer token for its view, expiring ttl seconds from now, and a record of it with the same expiry", () => {
    const { claims, link } = newLink("demo", "L1", "/t/demo/rigs/web", { kind: "town" }, 3600, 1_000_500);
    expect(claims).toEqual({ role: "viewer", town: "demo", view: { kind: "town" }, iat: 1_000, exp: 4_600, jti: "L1" });
    expect(link).toEqual({ id: "L1", path: "/t/demo/rigs/web", view: { kind: "town" }, createdAt: 1_000_500, expiresAt: 4_600_000 });
    expect(tokenExp(link)).toBe(4_600);
    expect(tokenExp({ ...link, expiresAt: 4_600_001 })).toBe(4_601);
  });

  it("is listed newest first while open; expired ones are set apart to be forgotten", () => {
    const link = (id: string, createdAt: number, expiresAt: number): ShareLink => ({ id, path: "/t/demo", view: { kind: "town" }, createdAt, expiresAt });
    const { live, expired } = sortLinks([link("old", 1, 500), link("a", 2, 2_000), link("b", 3, 1_001), link("edge", 4, 1_000)], 1_000);
    expect(live.map((l) => l.id)).toEqual(["b", "a"]);
    expect(expired.map((l) => l.id)).toEqual(["old", "edge"]);
  });
});

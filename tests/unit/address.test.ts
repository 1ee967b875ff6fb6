import { describe, expect, it } from "vitest";
import { parseAddress, rigToolArgs, SLUG_RE, slug, townToolArgs } from "../../party/protocol.ts";

describe("parseAddress", () => {
  it("parses the town identities mayor and operator", () => {
    expect(parseAddress("mayor")).toEqual({ kind: "town", identity: "mayor" });
    expect(parseAddress("operator")).toEqual({ kind: "town", identity: "operator" });
  });

  it("parses <rig>/witness and <rig>/refinery", () => {
    expect(parseAddress("gastown/witness")).toEqual({ kind: "rig", rig: "gastown", role: "witness", name: "witness", identity: "gastown/witness" });
    expect(parseAddress("r2/refinery")).toEqual({ kind: "rig", rig: "r2", role: "refinery", name: "refinery", identity: "r2/refinery" });
  });

  it("parses <rig>/polecats/<name>", () => {
    expect(parseAddress("b/polecats/maple")).toEqual({ kind: "rig", rig: "b", role: "polecat", name: "maple", identity: "b/polecats/maple" });
  });

  it.each([
    "",
    "Mayor",
    "OPERATOR",
    "mayor/witness/x",
    "rig",
    "rig/",
    "/witness",
    "-rig/witness",
    "Rig/witness",
    "rig_1/witness",
    `${"a".repeat(41)}/witness`,
    "rig/mayor",
    "rig/polecat/toast",
    "rig/polecats",
    "rig/polecats/",
    "rig/polecats/Toast",
    "rig/polecats/1toast",
    "rig/polecats/toast/extra",
    "rig/witness/extra",
    "rig//witness",
  ])("rejects %j", (address) => {
    expect(parseAddress(address)).toBeNull();
  });

  it("accepts a 40-character rig slug but not 41", () => {
    expect(parseAddress(`${"a".repeat(40)}/witness`)).not.toBeNull();
    expect(parseAddress(`${"a".repeat(41)}/witness`)).toBeNull();
  });
});

describe("slug rule for rig names", () => {
  it.each(["a", "0", "my-rig", "rig-2", "a".repeat(40)])("accepts %j", (name) => {
    expect(SLUG_RE.test(name)).toBe(true);
    expect(townToolArgs.gt_rig_add.safeParse({ name, git_url: "/tmp/x.git" }).success).toBe(true);
  });

  it.each(["", "-rig", "My-rig", "rig_1", "rig.1", "rig/x", "a".repeat(41), " rig"])("rejects %j", (name) => {
    expect(slug.safeParse(name).success).toBe(false);
    expect(townToolArgs.gt_rig_add.safeParse({ name, git_url: "/tmp/x.git" }).success).toBe(false);
  });
});

describe("tool argument schemas are strict", () => {
  it("townToolArgs reject an unknown field", () => {
    expect(townToolArgs.gt_rig_remove.safeParse({ name: "a" }).success).toBe(true);
    expect(townToolArgs.gt_rig_remove.safeParse({ name: "a", force: true }).success).toBe(false);
    expect(townToolArgs.gt_list_rigs.safeParse({}).success).toBe(true);
    expect(townToolArgs.gt_list_rigs.safeParse({ extra: 1 }).success).toBe(false);
    expect(townToolArgs.gt_mail_send.safeParse({ to: "mayor", subject: "s", body: "b", cc: "operator" }).success).toBe(false);
  });

  it("rigToolArgs reject an unknown field", () => {
    const mail = { to: "a/polecats/toast", subject: "hi", body: "" };
    expect(rigToolArgs.gt_mail_send.safeParse(mail).success).toBe(true);
    expect(rigToolArgs.gt_mail_send.safeParse({ ...mail, priority: "high" }).success).toBe(false);
    expect(rigToolArgs.gt_prime.safeParse({}).success).toBe(true);
    expect(rigToolArgs.gt_prime.safeParse({ verbose: true }).success).toBe(false);
  });

  it("mail_send validates the recipient address", () => {
    expect(rigToolArgs.gt_mail_send.safeParse({ to: "a/polecats/", subject: "s", body: "" }).success).toBe(false);
    expect(townToolArgs.gt_mail_send.safeParse({ to: "nobody", subject: "s", body: "" }).success).toBe(false);
  });
});

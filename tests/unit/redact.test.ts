/** Redaction of token-shaped strings in agents' output (party/redact.ts), as tables and properties. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { signToken } from "../../party/auth.ts";
import { REDACTED, StreamRedactor, redact } from "../../party/redact.ts";

const SECRET = "unit-secret-0123456789abcdef";

describe("redact", () => {
  it("hides a real agent token wherever it appears, with or without its name", async () => {
    const token = await signToken({ role: "agent", town: "demo", agent: "alpha/polecats/toast", exp: Math.floor(Date.now() / 1000) + 60 }, SECRET);
    for (const line of [token, `token is ${token}.`, `GT_TOKEN=${token}`, `curl -H "Authorization: Bearer ${token}"`, `{"token":"${token}"}`]) {
      const out = redact(line);
      expect(out).not.toContain(token.split(".")[2]);
      expect(out).toContain(REDACTED);
    }
    expect(redact(`GT_TOKEN=${token}`)).toBe(`GT_TOKEN=${REDACTED}`);
    expect(redact(`{"token":"${token}"}`)).toBe(`{"token":${REDACTED}}`);
  });

  it("hides the exact secrets it is given, even where no pattern would", () => {
    expect(redact("the run token is abc:def/ghi!", ["abc:def/ghi"])).toBe(`the run token is ${REDACTED}!`);
    // Too short to be a secret: words would vanish.
    expect(redact("a cat sat", ["cat"])).toBe("a cat sat");
  });

  it.each([
    ["Authorization: Bearer abc123def456", `Authorization: Bearer ${REDACTED}`],
    ["authorization: bearer sk.live.x1y2z3w4", `authorization: bearer ${REDACTED}`],
    ["Authorization: Basic dXNlcjpwYXNzd29yZA==", `Authorization: Basic ${REDACTED}`],
    ["git clone https://bob:hunter2secret@github.com/x/y.git", `git clone https://bob:${REDACTED}@github.com/x/y.git`],
    ["export GITHUB_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ012345", `export GITHUB_TOKEN=${REDACTED}`],
    ["using ghp_0123456789abcdefghijABCDEFGHIJ012345 now", `using ${REDACTED} now`],
    ["key sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345", `key ${REDACTED}`],
    ["aws AKIAIOSFODNN7EXAMPLE here", `aws ${REDACTED} here`],
    ["AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", `${REDACTED} ${REDACTED}`],
    ["id=AKIAIOSFODNN7EXAMPLE, key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY.", `id=${REDACTED}, key: ${REDACTED}.`],
    ["AKIAIOSFODNN7EXAMPLE,wJalrXUtnFEMI+K7MDENG+bPxRfiCYEXAMPLEKEY", `${REDACTED},${REDACTED}`],
    ["AWS_SECRET_ACCESS_KEY wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", `AWS_SECRET_ACCESS_KEY ${REDACTED}`],
    ["aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", `aws_secret_access_key = ${REDACTED}`],
    // A git commit id (40 hex) beside a key id is not a secret key.
    ["AKIAIOSFODNN7EXAMPLE at 3f786850e387550fdab836ed7e6dc881de23001b", `${REDACTED} at 3f786850e387550fdab836ed7e6dc881de23001b`],
    ["slack xoxb-1234567890-abcdefghij", `slack ${REDACTED}`],
    ['"password": "correct horse battery"', `"password": ${REDACTED}`],
    ["token='abcd1234efgh'", `token=${REDACTED}`],
    ["DB_PASSWORD=s3cr3t-pa55word", `DB_PASSWORD=${REDACTED}`],
    ["api_key: 0123456789abcdef", `api_key: ${REDACTED}`],
    ["-----BEGIN RSA PRIVATE KEY-----MIIEowIBAAKCAQEA", `-----BEGIN RSA PRIVATE KEY-----${REDACTED}`],
    ["MIIEowIBAAKCAQEAvW9yZ3BhZGRpbmdwYWRkaW5ncGFkZGluZ3BhZGRpbmdwYWRkaW5n", REDACTED],
    ["aaaa1234567890abcdefghijklmnop.bbbb1234567890abcdefghij.cccc1234567890abcdefghij", REDACTED],
  ])("redacts %s", (line, expected) => {
    expect(redact(line)).toBe(expected);
  });

  it.each([
    "commit 3f786850e387550fdab836ed7e6dc881de23001b merged",
    "pushed 3f786850e387550fdab836ed7e6dc881de23001b for aws_secret_access_key rotation docs",
    "bead 01J0000000000000000000AAA1 run 01J0000000000000000000AAA1.2",
    "src/components/SomeComponent2/index/WithAVeryLongName/file.tsx",
    "token expired; renew it with gt_token_refresh",
    "Bearer authentication is required",
    "Basic functionality works",
    "max_tokens: 4096",
    "author: Jonathan Smith",
    "https://github.com/townhall/townhall.git",
    "a.b.c and registry.npmjs.org",
    "\tindented with a tab",
  ])("leaves %s alone", (line) => {
    expect(redact(line)).toBe(line);
  });

  it("hides a JWT nobody told it about with spaces around its dots, in full-width forms, with invisible characters inside", async () => {
    const token = await signToken({ role: "viewer", town: "elsewhere", exp: Math.floor(Date.now() / 1000) + 60 }, "another-town-secret-0123456789");
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const fullWidth = (s: string) => [...s].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join("");
    for (const shown of [
      `${header} . ${payload} . ${signature}`,
      `${header}\t.${payload} .\t${signature}`,
      fullWidth(token),
      [...token].join("\u200b"),
      `${header}.\u202e${payload}\u202c.${signature}`,
      [...token].join("⟨U+2060⟩"),
    ]) {
      expect(redact(`seen: ${shown} (theirs)`)).toBe(`seen: ${REDACTED} (theirs)`);
    }
  });

  it("is idempotent: redacting twice changes nothing more", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }),
        fc.constantFrom("", "Bearer abc123def456", "password=hunter2hunter2", "ghp_0123456789abcdefghijABCDEFGHIJ012345"),
        (text, secret) => {
          const once = redact(`${text} ${secret} ${text}`);
          expect(redact(once)).toBe(once);
        },
      ),
    );
  });

  it("never leaves a JWT's signature in any text around it", async () => {
    const token = await signToken({ role: "container", town: "demo", exp: Math.floor(Date.now() / 1000) + 60 }, SECRET);
    const signature = token.split(".")[2]!;
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), fc.constantFrom(" ", "=", ":", '"', "\t", "(", ""), (before, after, sep) => {
        expect(redact(`${before}${sep}${token}${sep === "(" ? ")" : sep}${after}`)).not.toContain(signature);
      }),
    );
  });
});

describe("StreamRedactor", () => {
  it("hides every line of a private key block, however short, and what follows it shows again", () => {
    const r = new StreamRedactor();
    const block = ["here is the key:", "-----BEGIN OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXktdjEAAAAA", "short", "-----END OPENSSH PRIVATE KEY-----", "done"];
    expect(block.map((l) => r.line(l))).toEqual([
      "here is the key:",
      `-----BEGIN OPENSSH PRIVATE KEY-----${REDACTED}`,
      REDACTED,
      REDACTED,
      `${REDACTED} -----END OPENSSH PRIVATE KEY-----`,
      "done",
    ]);
  });

  it("gives up a block that never ends after its bound, and still redacts by pattern", () => {
    const r = new StreamRedactor(["my-own-run-token"], 3);
    expect(["-----BEGIN PRIVATE KEY-----", "a", "b", "c", "plain", "x my-own-run-token"].map((l) => r.line(l))).toEqual([
      `-----BEGIN PRIVATE KEY-----${REDACTED}`,
      REDACTED,
      REDACTED,
      REDACTED,
      "plain",
      `x ${REDACTED}`,
    ]);
  });
});

/**
 * Redaction of known secrets by value (party/secret-values.ts, party/redact.ts), against every way
 * an agent can print its own token to slip past a match of the whole token: encoded (base64 and
 * base64url at each byte alignment, hex of either case, percent and other one-character escapes),
 * dressed (zero-width, bidi and other invisible characters, whitespace between its characters,
 * full-width forms) and both at once, split across lines and across the container's reads. Each
 * goes through the container's real path (RunOutput.chunk: splitting, shaping, redaction) and the
 * room's second pass (appendLines).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OutputShipper } from "../../container/output-shipper.ts";
import { signToken } from "../../party/auth.ts";
import { appendLines, newRun } from "../../party/agent-output.ts";
import { LIMITS } from "../../party/protocol.ts";
import { REDACTED, redact } from "../../party/redact.ts";
import { SecretValues, base64Cores } from "../../party/secret-values.ts";
import { CUT, expectHidden, leftovers } from "../helpers/redaction.ts";

const exp = Math.floor(Date.now() / 1000) + 3600;
const token = await signToken(
  { role: "agent", town: "demo", agent: "alpha/polecats/toast", run: "01J0000000000000000000BEAD.1", exp },
  "unit-secret-0123456789abcdef",
);
const containerToken = await signToken({ role: "container", town: "demo", exp }, "unit-secret-0123456789abcdef");

/** How an agent can write the token's bytes. */
const ENCODINGS: Record<string, (s: string) => string> = {
  "as it is": (s) => s,
  base64: (s) => Buffer.from(s).toString("base64"),
  "base64 after one byte": (s) => Buffer.from(`x${s}`).toString("base64"),
  "base64 after two bytes": (s) => Buffer.from(`xy${s}`).toString("base64"),
  "base64url after one byte": (s) => Buffer.from(`=${s}`).toString("base64url"),
  hex: (s) => Buffer.from(s).toString("hex"),
  "HEX after one byte": (s) => Buffer.from(`=${s}`).toString("hex").toUpperCase(),
  "every character percent-encoded": (s) => [...s].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).join(""),
  "every other one percent-encoded, lower case": (s) => [...s].map((c, i) => (i % 2 ? `%${c.charCodeAt(0).toString(16)}` : c)).join(""),
  "\\x and \\u escapes": (s) => [...s].map((c, i) => (i % 2 ? `\\x${c.charCodeAt(0).toString(16)}` : `\\u00${c.charCodeAt(0).toString(16)}`)).join(""),
  "HTML character references": (s) => [...s].map((c, i) => (i % 2 ? `&#${c.charCodeAt(0)};` : `&#x${c.charCodeAt(0).toString(16)};`)).join(""),
};

const between = (s: string, sep: string) => [...s].join(sep);
const fullWidth = (s: string) => [...s].map((c) => (c > " " && c <= "~" ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join("");

/** How it can look like itself to a person but not to a match. */
const DRESSINGS: Record<string, (s: string) => string> = {
  plain: (s) => s,
  "zero-width spaces between": (s) => between(s, "\u200b"),
  "bidi overrides and isolates between": (s) => [...s].map((c, i) => c + ["\u202e", "\u2066", "\u202c", "\u2069"][i % 4]).join(""),
  "BOM, word joiner, soft hyphen, tag between": (s) => [...s].map((c, i) => c + ["\ufeff", "\u2060", "\u00ad", "\u{e0041}"][i % 4]).join(""),
  "spaces between": (s) => between(s, " "),
  "tabs and spaces around every 4th": (s) => s.replace(/(.{4})/g, "$1 \t "),
  "full-width": fullWidth,
  "full-width and zero-width": (s) => between(fullWidth(s), "\u200c"),
  "full-width, ideographic spaces between": (s) => between(fullWidth(s), "\u3000"),
};

/** A shipper whose sends never settle: the lines RunOutput.chunk returns are what would leave. */
const shipper = () => new OutputShipper({ send: () => new Promise(() => {}), classify: () => "retry", connected: () => false, log: () => {}, flushMs: 60_000 });
const KEY = { epoch: 1, run: "01J0000000000000000000BEAD.1", identity: "alpha/polecats/toast" };

/** `text` through a run's real output path, fed in `chunks` pieces of its bytes (cut anywhere, inside characters too). */
function throughContainer(text: string, cuts: number[] = []): string[] {
  const s = shipper();
  const run = s.open(KEY, [token, containerToken]);
  const bytes = Buffer.from(text);
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const lines: string[] = [];
  let from = 0;
  for (const cut of [...at, bytes.length]) {
    lines.push(...run.chunk("out", bytes.subarray(from, cut)));
    from = cut;
  }
  lines.push(...run.end().map((l) => l.text));
  s.close();
  return lines;
}

describe("known secrets, by value, through the container's output path", () => {
  for (const [encoding, encode] of Object.entries(ENCODINGS)) {
    for (const [dressing, dress] of Object.entries(DRESSINGS)) {
      it(`${encoding}, ${dressing}: hidden, the text around it kept`, () => {
        const text = `my token is: ${dress(encode(token))} (do not share)`;
        const [line] = throughContainer(`${text}\n`);
        expectHidden(line!, "my token is: ", " (do not share)");
        if (Buffer.byteLength(text) <= LIMITS.outputLineBytes) expect(line).not.toMatch(CUT);
      });
    }
  }

  it("whatever the container's reads cut (inside characters too), the same lines leave: nothing of the token, ordinary lines as they were", () => {
    const ordinary = [
      "commit 3f786850e387550fdab836ed7e6dc881de23001b",
      "  src/auth.ts | 12 ++++++------",
      "GET /parties/rig/demo.alpha?token=&a=%20b 200",
      "0123456789abcdef0123456789abcdef",
      "✔ 472 tests passed ⚠️ 2 warnings 👩‍💻",
      "ｆｕｌｌ－ｗｉｄｔｈ ｔｅｘｔ　ｓｔａｙｓ",
    ];
    const dressed = Object.entries(DRESSINGS).map(([name, dress]) => `${name}: ${dress(ENCODINGS["base64 after one byte"]!(token))} end`);
    const text = `${dressed.flatMap((line, i) => [line, ordinary[i % ordinary.length]]).join("\n")}\n`;
    const whole = throughContainer(text);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        expect(throughContainer(text, cuts)).toEqual(whole);
      }),
      { numRuns: 50 },
    );
    dressed.forEach((_, i) => {
      expectHidden(whole[2 * i]!, `${Object.keys(DRESSINGS)[i]}: `, " end");
      expect(whole[2 * i + 1]).toBe(ordinary[i % ordinary.length]);
    });
  });

  it("split across lines: a line ending with a prefix of 8 or more characters, the lines between, the line starting with the rest", () => {
    fc.assert(
      fc.property(
        fc
          .uniqueArray(fc.integer({ min: 8, max: token.length - 8 }), { minLength: 1, maxLength: 6 })
          .filter((cuts) => [...cuts].sort((a, b) => a - b).every((c, i, all) => c - (all[i - 1] ?? 0) >= 8)),
        fc.constantFrom(...Object.values(DRESSINGS)),
        (cuts, dress) => {
          const at = [0, ...[...cuts].sort((a, b) => a - b), token.length];
          const pieces = at.slice(1).map((end, i) => dress(token.slice(at[i], end)));
          const lines = throughContainer(`export GT_TOKEN=${pieces.join("\n")} # mine\n`);
          expect(lines).toHaveLength(pieces.length);
          // Every piece hidden whole: nothing is left of it but what a reader skips (marks, whitespace).
          expectHidden(lines[0]!, "export GT_TOKEN=", "");
          for (const line of lines.slice(1, -1)) expectHidden(line, "", "");
          expectHidden(lines.at(-1)!, "", " # mine");
          for (const line of lines) expect(leftovers(line.replace(/^export GT_TOKEN=|# mine$/g, "")).join("")).toBe("");
        },
      ),
    );
  });

  it("wrapped encodings (`echo $GT_TOKEN | base64`, hex in 20 lines): every line of it is hidden", () => {
    const hex = Buffer.from(token).toString("hex");
    // base64 breaks its lines at 76 columns; the last line of each here is longer than a fragment.
    for (const [encoded, width] of [
      [Buffer.from(`${token}\n`).toString("base64"), 76],
      [hex, Math.ceil(hex.length / 20)],
    ] as const) {
      const lines = throughContainer(`${encoded.match(new RegExp(`.{1,${width}}`, "g"))!.join("\n")}\n`);
      for (const line of lines) expectHidden(line, "", "");
    }
  });

  it("the container's token too, and a secret added to the run's set while it runs", () => {
    const s = shipper();
    const run = s.open(KEY, [token]);
    expect(run.chunk("out", Buffer.from(`ct ${Buffer.from(containerToken).toString("hex")}\n`))).not.toEqual([`ct ${REDACTED}`]);
    run.secrets.add(containerToken, "sk-agent-key-0123456789abcdef");
    expect(run.chunk("err", Buffer.from(`ct ${Buffer.from(containerToken).toString("hex")}\nkey=sk-agent-key-0123456789abcdef!\n`))).toEqual([
      `ct ${REDACTED}`,
      `key=${REDACTED}!`,
    ]);
    s.close();
  });
});

describe("the rule's edges", () => {
  const secrets = new SecretValues([token]);

  it("a fragment of 8 characters is hidden, one of 7 is not, nor a secret of 7 (shorter runs would hide ordinary words)", () => {
    const eight = token.slice(-8);
    const seven = token.slice(-7);
    // Between characters no token has: a neighbour that happens to continue the secret is hidden with it.
    expect(redact(`sig ends (${eight})`, secrets)).toBe(`sig ends (${REDACTED})`);
    expect(redact(`sig ends (${seven})`, secrets)).toBe(`sig ends (${seven})`);
    expect(new SecretValues(["1234567"]).size).toBe(0);
    expect(redact("pin 1234567", ["1234567"])).toBe("pin 1234567");
  });

  it("a passphrase with spaces is hidden however its spaces are printed", () => {
    expect(redact("the pass is correct  horse\tbattery staple, ok", ["correct horse battery staple"])).toBe(`the pass is ${REDACTED}, ok`);
  });

  it("the base64 cores are the characters that depend on the secret alone, at each alignment", () => {
    const bytes = new TextEncoder().encode("abcdefgh");
    expect(base64Cores(bytes)).toEqual(["YWJjZGVmZ2", "FiY2RlZmdo", "hYmNkZWZna"]);
    for (const [offset, core] of base64Cores(bytes).entries()) expect(Buffer.from(`${"?".repeat(offset)}abcdefgh!!`).toString("base64")).toContain(core);
  });

  it("bad input never throws: lone surrogates, escapes past Unicode, marks cut short", () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom("%", "4", "1", "\\", "u", "x", "{", "}", "&", "#", ";", "\ud800", "\udc00", "⟨", "U", "+", "⟩", "ｅ", "\u200b", " ", "a"),
        }),
        (text) => {
          expect(typeof redact(text, secrets)).toBe("string");
        },
      ),
    );
    expect(redact("\\u{110000} &#99999999; %8F \\xFF", secrets)).toBe("\\u{110000} &#99999999; %8F \\xFF");
  });
});

describe("the rig room's second pass", () => {
  it("hides the town's secret by value in any form, as the container hides the run's token", () => {
    const townSecret = "town-secret-0123456789abcdefXY"; // 30 bytes: its base64 has no partial ends
    const lines = [
      `b64 ${Buffer.from(townSecret).toString("base64")}`,
      `hex ${between(Buffer.from(townSecret).toString("hex"), "\u200b")}`,
      `fw ${fullWidth(townSecret)}`,
      `cut ${townSecret.slice(0, 12)}`,
    ];
    const stored = appendLines(
      newRun(KEY.run, KEY.identity, 0),
      [],
      lines.map((text) => ({ at: 1, stream: "out" as const, text })),
      undefined,
      [townSecret],
    );
    expect(stored.added.map((l) => l.text)).toEqual([`b64 ${REDACTED}`, `hex ${REDACTED}`, `fw ${REDACTED}`, `cut ${REDACTED}`]);
  });

  it("reads past the marks the container wrote for invisible characters", () => {
    const townSecret = "town-secret-0123456789abcdefXYZ";
    const marked = between(townSecret, "⟨U+200B⟩");
    const stored = appendLines(newRun(KEY.run, KEY.identity, 0), [], [{ at: 1, stream: "out", text: `s ${marked} e` }], undefined, [townSecret]);
    expect(stored.added.map((l) => l.text)).toEqual([`s ${REDACTED} e`]);
  });
});

/**
 * What redaction (party/redact.ts) costs on one line of the largest size the container keeps
 * (LIMITS.outputLineBytes), ordinary and hostile: `npx tsx bench/redact.ts`. Prints, per shape of
 * line, the median and the 99th percentile of many runs (the slowest run is the machine's noise: a collection, another process), without and with two known secrets (a run's token
 * and a container's, as the container redacts). The bar: about a millisecond per line at most.
 */
import { signToken } from "../party/auth.ts";
import { LIMITS } from "../party/protocol.ts";
import { redact } from "../party/redact.ts";
import { SecretValues } from "../party/secret-values.ts";
import { Rng } from "./lib/rng.ts";

const SIZE = LIMITS.outputLineBytes;
const ROUNDS = 300;

const rng = new Rng(18);
const pick = (alphabet: string, n: number) => Array.from({ length: n }, () => rng.pick([...alphabet])).join("");
const fill = (unit: string, bytes = SIZE) =>
  unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit))).slice(0, Math.floor((bytes / Buffer.byteLength(unit)) * unit.length));

const exp = Math.floor(Date.now() / 1000) + 3600;
const tokens = [
  await signToken({ role: "agent", town: "bench", agent: "alpha/polecats/toast", exp }, "bench-secret-0123456789abcdef"),
  await signToken({ role: "container", town: "bench", exp }, "bench-secret-0123456789abcdef"),
];
const token = tokens[0]!;

const LINES: Record<string, string> = {
  prose: fill("the quick brown fox jumps over the lazy dog; "),
  "random base64url": pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", SIZE),
  "hex digits": pick("0123456789abcdef", SIZE),
  "full-width letters": fill("ｅｙＪａｂｃ"),
  "zero-width between letters": fill("a\u200b"),
  "percent escapes": fill("%41"),
  "escapes of escapes": fill("\\u{41}&#x41;"),
  "the token, many times": fill(`${token} `),
  "the token in full width": fill([...token].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join("")),
  "jwt starts, no dots": fill("eyJaaaaaaaaaaa   "),
  "key= without end": `token=${"a".repeat(SIZE - 6)}`,
  "url without @": `https://user:${"p".repeat(SIZE - 13)}`,
  "Bearer, many": fill("Bearer a "),
};

function measure(line: string, secrets: SecretValues): { p50: number; p99: number } {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    redact(line, secrets);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)]!, p99: times[Math.floor(times.length * 0.99)]! };
}

const none = new SecretValues();
const known = new SecretValues(tokens);
const ms = (n: number) => n.toFixed(3);
console.log(`redact() of one ${SIZE}-byte line, ${ROUNDS} runs each (ms)\n`);
console.log("| line | p50 | p99 | p50, 2 known secrets | p99, 2 known secrets |\n| --- | ---: | ---: | ---: | ---: |");
for (const [name, line] of Object.entries(LINES)) {
  for (let i = 0; i < 50; i++) redact(line, known); // warm up
  const a = measure(line, none);
  const b = measure(line, known);
  console.log(`| ${name} | ${ms(a.p50)} | ${ms(a.p99)} | ${ms(b.p50)} | ${ms(b.p99)} |`);
}

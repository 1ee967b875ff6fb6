/**
 * Redaction of secrets in what agents print, as pure functions. The container redacts each line
 * before it leaves, and the rig room redacts again before it stores a line (defence in depth: a
 * container of another version still meets this). What is replaced becomes `[redacted]`; the name
 * of a variable or header before it stays, so a reader still sees what was there.
 *
 * Two nets. Secrets known by value (the run's token, the container's, the town's secret in the
 * room: secret-values.ts) are hidden in any form and any fragment of 8 or more characters. Secrets
 * nobody told us about are hidden by shape (the rules below), which errs on the side of hiding: a
 * long mixed-case base64 run on a line of its own is hidden even when it was only data. Both read
 * the line folded (folded-text.ts), so full-width letters and invisible characters do not hide a
 * secret from them. Neither can know every secret format: agents should not print secrets, and this
 * is the net under that, not a guarantee.
 *
 * Linear on hostile lines: every rule's repeated parts are disjoint from what follows them (no
 * unbounded backtracking), and matching by value is a set lookup per character. A 4 KiB line costs
 * at most about a millisecond (bench/redact.ts).
 */
import { fold } from "./folded-text.ts";
import { SecretValues } from "./secret-values.ts";

export const REDACTED = "[redacted]";

/** Each rule: a pattern, and what a match becomes (`$<keep>` is kept: a key, a scheme, a prefix). */
type Rule = { name: string; pattern: RegExp; keep?: boolean };

const B64URL = "[A-Za-z0-9_-]";

const RULES: readonly Rule[] = [
  // PEM blocks whose body is on the same line (or its header alone): the body lines are below.
  { name: "private key header", pattern: /(?<keep>-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, keep: true },
  // URLs with a password: scheme://user:password@host
  { name: "url password", pattern: /(?<keep>(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,30}:\/\/[^\s:/@]{1,200}:)[^\s@/]{1,500}(?=@)/gi, keep: true },
  // Authorization headers: Bearer <token>, Basic <base64>. The credential must look like one (a
  // digit, `=`, `.`, `_`, `-` or an upper-case letter past its first), so "Bearer authentication" stays.
  {
    name: "authorization",
    pattern: /(?<keep>\b(?:[Bb]earer|BEARER|Basic|BASIC)\s+)(?=[A-Za-z0-9._~+/-]*[0-9=._-]|[A-Za-z0-9._~+/-]+[A-Z])[A-Za-z0-9._~+/-]{8,}=*/g,
    keep: true,
  },
  // JWTs (header.payload.signature, the header is base64url JSON: `eyJ`), also with spaces around
  // the dots, and any three long base64url parts.
  { name: "jwt", pattern: new RegExp(`(?<!${B64URL})eyJ${B64URL}{8,}[ \\t]*\\.[ \\t]*${B64URL}{8,}[ \\t]*\\.[ \\t]*${B64URL}{8,}`, "g") },
  { name: "three-part token", pattern: new RegExp(`(?<!${B64URL})${B64URL}{20,}\\.${B64URL}{20,}\\.${B64URL}{20,}`, "g") },
  // Well-known prefixes: GitHub, GitLab, Slack, AWS access keys, OpenAI/Anthropic-style keys, Google API keys, npm, Stripe.
  {
    name: "known prefix",
    pattern:
      /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}|glpat-[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA)[0-9A-Z]{16}|sk-[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36}|[rs]k_live_[A-Za-z0-9]{16,})\b/g,
  },
  // key=value and "key": "value" where the key names a secret: a quoted value whole (4+
  // characters), an unquoted one of 8+ characters (`max_tokens: 4096` is not a secret).
  {
    name: "secret assignment",
    pattern:
      /(?<keep>(?<![A-Za-z0-9_.-])[A-Za-z0-9_.-]{0,40}(?:token|secret|passw(?:or)?d|pwd|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)[A-Za-z0-9_.-]{0,40}["']?[ \t]{0,8}[:=][ \t]{0,8})(?:"[^"\n]{4,}"|'[^'\n]{4,}'|[^\s"'&,;]{8,})/gi,
    keep: true,
  },
  // A line that is nothing but a long base64 run with upper, lower case and digits: a PEM body line, a key.
  { name: "base64 line", pattern: /^\s*(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[0-9])[A-Za-z0-9+/]{60,}={0,2}\s*$/g },
];

/** Where the rules match, in `line`: each match but its kept prefix (a match of nothing but its prefix marks where to insert). */
function ruleRanges(line: string): [number, number][] {
  const folded = fold(line, { dropSpaces: false, decode: false });
  const ranges: [number, number][] = [];
  for (const rule of RULES) {
    for (const match of folded.text.matchAll(rule.pattern)) {
      const kept = rule.keep ? (match.groups?.keep?.length ?? 0) : 0;
      ranges.push(folded.inLine(match.index + kept, match.index + match[0].length));
    }
  }
  return ranges;
}

// An AWS secret access key has no prefix: 40 characters of base64 (`+` and `/` too). Alone it is
// indistinguishable from data, so it is hidden only where its context names it: a line that holds an
// AWS access key id (AKIA…/ASIA…) or the name `aws_secret_access_key` (any case). A 40-character
// run of hex digits is a git commit id, not a key (keys are mixed case), and stays.
const AWS_CONTEXT = /(?:\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|aws_?secret_?access_?key)/i;
const AWS_SECRET = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/])/g;
const HEX = /^[0-9a-f]+$/i;

/** Where 40-character AWS secret keys are, in a line whose context names AWS credentials. */
function awsRanges(line: string): [number, number][] {
  const folded = fold(line, { dropSpaces: false, decode: false });
  if (!AWS_CONTEXT.test(folded.text)) return [];
  const ranges: [number, number][] = [];
  for (const match of folded.text.matchAll(AWS_SECRET)) {
    if (HEX.test(match[0])) continue;
    ranges.push(folded.inLine(match.index, match.index + match[0].length));
  }
  return ranges;
}

/** Where fragments of the known secrets are, in `line` (read with spaces left out and escapes decoded). */
function valueRanges(line: string, secrets: SecretValues): [number, number][] {
  if (!secrets.size) return [];
  const folded = fold(line, { dropSpaces: true, decode: true });
  return secrets.find(folded.text).map(([start, end]) => folded.inLine(start, end));
}

/** `line` with each of `ranges` (overlapping or touching ones as one) replaced by `[redacted]`. */
function replaceRanges(line: string, ranges: [number, number][]): string {
  if (!ranges.length) return line;
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let out = "";
  let at = 0;
  for (let i = 0; i < ranges.length;) {
    const start = ranges[i]![0];
    let end = ranges[i]![1];
    for (i++; i < ranges.length && ranges[i]![0] <= end; i++) end = Math.max(end, ranges[i]![1]);
    out += line.slice(at, start) + REDACTED;
    at = end;
  }
  return out + line.slice(at);
}

/**
 * `text` with every fragment of 8 or more characters of `secrets` (e.g. the run's own token), in
 * any form, and every token-shaped string replaced by `[redacted]`. Secrets shorter than 8
 * characters are ignored (they would hide ordinary words). Pass a SecretValues where the same
 * secrets redact many lines: a list is made into one on each call.
 */
export function redact(text: string, secrets: SecretValues | readonly string[] = []): string {
  const known = secrets instanceof SecretValues ? secrets : new SecretValues(secrets);
  return replaceRanges(text, [...ruleRanges(text), ...awsRanges(text), ...valueRanges(text, known)]);
}

/**
 * Redaction across the lines of one stream: inside a PEM private key block (from its BEGIN line to
 * its END line, at most `maxBlockLines` lines) every line is hidden, however short.
 */
export class StreamRedactor {
  private inKey = 0;
  private readonly secrets: SecretValues;

  constructor(
    secrets: SecretValues | readonly string[] = [],
    private readonly maxBlockLines = 200,
  ) {
    this.secrets = secrets instanceof SecretValues ? secrets : new SecretValues(secrets);
  }

  line(text: string): string {
    if (this.inKey > 0) {
      if (/-----END [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) {
        this.inKey = 0;
        return text.replace(/^[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----)/, `${REDACTED} $1`);
      }
      this.inKey = this.inKey >= this.maxBlockLines ? 0 : this.inKey + 1;
      return REDACTED;
    }
    if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text) && !/-----END [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) this.inKey = 1;
    return redact(text, this.secrets);
  }
}

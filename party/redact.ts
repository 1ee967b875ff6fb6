/**
 * Redaction of token-shaped strings in what agents print, as pure functions. The container redacts
 * each line before it leaves (it also knows the run's own token), and the rig room redacts again
 * before it stores a line (defence in depth: a container of another version, or a pattern split
 * across two of the container's reads, still meets this). What is replaced becomes `[redacted]`;
 * the name of a variable or header before it stays, so a reader still sees what was there.
 *
 * Redaction is by shape, so it errs on the side of hiding: a long mixed-case base64 run on a line
 * of its own is hidden even when it was only data. It cannot know every secret format: agents
 * should not print secrets, and this is the net under that, not a guarantee.
 */

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
  { name: "authorization", pattern: /(?<keep>\b(?:[Bb]earer|BEARER|Basic|BASIC)\s+)(?=[A-Za-z0-9._~+/-]*[0-9=._-]|[A-Za-z0-9._~+/-]+[A-Z])[A-Za-z0-9._~+/-]{8,}=*/g, keep: true },
  // JWTs (header.payload.signature, the header is base64url JSON: `eyJ`), and any three long base64url parts.
  { name: "jwt", pattern: new RegExp(`(?<!${B64URL})eyJ${B64URL}{8,}\\.${B64URL}{8,}\\.${B64URL}{8,}`, "g") },
  { name: "three-part token", pattern: new RegExp(`(?<!${B64URL})${B64URL}{20,}\\.${B64URL}{20,}\\.${B64URL}{20,}`, "g") },
  // Well-known prefixes: GitHub, GitLab, Slack, AWS access keys, OpenAI/Anthropic-style keys, Google API keys, npm, Stripe.
  { name: "known prefix", pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}|glpat-[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA)[0-9A-Z]{16}|sk-[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36}|[rs]k_live_[A-Za-z0-9]{16,})\b/g },
  // key=value and "key": "value" where the key names a secret: a quoted value whole (4+
  // characters), an unquoted one of 8+ characters (`max_tokens: 4096` is not a secret).
  {
    name: "secret assignment",
    pattern: /(?<keep>(?<![A-Za-z0-9_.-])[A-Za-z0-9_.-]{0,40}(?:token|secret|passw(?:or)?d|pwd|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)[A-Za-z0-9_.-]{0,40}["']?[ \t]{0,8}[:=][ \t]{0,8})(?:"[^"\n]{4,}"|'[^'\n]{4,}'|[^\s"'&,;]{8,})/gi,
    keep: true,
  },
  // A line that is nothing but a long base64 run with upper, lower case and digits: a PEM body line, a key.
  { name: "base64 line", pattern: /^\s*(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[0-9])[A-Za-z0-9+/]{60,}={0,2}\s*$/g },
];

/**
 * `text` with every exact occurrence of `secrets` (e.g. the run's own token) and every token-shaped
 * string replaced by `[redacted]`. Secrets shorter than 8 characters are ignored (they would hide
 * ordinary words).
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 8 && out.includes(secret)) out = out.split(secret).join(REDACTED);
  for (const rule of RULES) {
    rule.pattern.lastIndex = 0;
    out = out.replace(rule.pattern, (...match) => {
      const groups = match[match.length - 1] as { keep?: string } | undefined;
      return rule.keep && groups?.keep !== undefined ? `${groups.keep}${REDACTED}` : REDACTED;
    });
  }
  return out;
}

/**
 * Redaction across the lines of one stream: inside a PEM private key block (from its BEGIN line to
 * its END line, at most `maxBlockLines` lines) every line is hidden, however short.
 */
export class StreamRedactor {
  private inKey = 0;

  constructor(
    private readonly secrets: readonly string[] = [],
    private readonly maxBlockLines = 200,
  ) {}

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

/**
 * The links `npm start` prints, kept across starts: the operator's dashboard link and the town's
 * read-only link are written to the state directory (`links.json`, 0600: they are bearer tokens)
 * and printed again by the next start while they are still good, so three starts give one link to
 * share, not three. The decision (`keptLinks`) is pure; the script reads and writes the file.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ShareLink } from "../party/protocol.ts";

/** What is kept: the town's name, and each link with when it stops working (ms). */
export type KeptLinks = {
  town: string;
  operator?: { token: string; expiresAt: number };
  share?: { id: string; path: string; expiresAt: number };
};

/**
 * A link is reused only with at least this much time left: a link printed to be shared should not
 * stop working the same day. Past it, a fresh one is made (7 days for the read-only link).
 */
export const REUSE_MIN_LEFT_MS = 24 * 3600_000;

/** Why a kept link is not reused (for the terminal), or null when it is. */
export type LinkVerdict = { reuse: true } | { reuse: false; why: string };

/**
 * Whether the kept read-only link can be printed again: kept for this town, listed by the town
 * room (`gt_share_list`: a town started over, or a link that aged out, is not), not revoked, and
 * good for at least REUSE_MIN_LEFT_MS more.
 */
export function shareVerdict(kept: KeptLinks | null, town: string, listed: readonly ShareLink[], now: number): LinkVerdict {
  const share = kept?.town === town ? kept.share : undefined;
  if (!share) return { reuse: false, why: "none kept from an earlier start" };
  const link = listed.find((l) => l.id === share.id);
  if (!link) return { reuse: false, why: "the town no longer has the earlier one" };
  if (link.revokedAt !== undefined) return { reuse: false, why: "the earlier one was revoked" };
  if (link.expiresAt - now < REUSE_MIN_LEFT_MS)
    return { reuse: false, why: link.expiresAt <= now ? "the earlier one expired" : "the earlier one expires within a day" };
  return { reuse: true };
}

/**
 * Whether the kept operator token can be printed again: kept for this town, still accepted with
 * this state's secret (`accepted`: checked by the caller), and good for at least a day more.
 */
export function operatorVerdict(kept: KeptLinks | null, town: string, accepted: boolean, now: number): LinkVerdict {
  const operator = kept?.town === town ? kept.operator : undefined;
  if (!operator) return { reuse: false, why: "none kept from an earlier start" };
  if (!accepted) return { reuse: false, why: "the earlier one is not accepted any more" };
  if (operator.expiresAt - now < REUSE_MIN_LEFT_MS) return { reuse: false, why: "the earlier one expires within a day" };
  return { reuse: true };
}

/** One link's note for the terminal: "reused from an earlier start, valid until …" or "new, valid until … (why)". */
export function linkNote(verdict: LinkVerdict, expiresAt: number, when: (ms: number) => string): string {
  return verdict.reuse ? `reused from an earlier start, valid until ${when(expiresAt)}` : `new, valid until ${when(expiresAt)} (${verdict.why})`;
}

const FILE = "links.json";

/** The kept links, or null when there are none or the file is not ours (it is then replaced). */
export function readKeptLinks(stateDir: string): KeptLinks | null {
  const path = join(stateDir, FILE);
  if (!existsSync(path)) return null;
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as KeptLinks;
    return typeof value?.town === "string" ? value : null;
  } catch {
    return null;
  }
}

export function writeKeptLinks(stateDir: string, links: KeptLinks): void {
  const path = join(stateDir, FILE);
  writeFileSync(path, `${JSON.stringify(links, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600); // a file from an earlier run keeps its mode otherwise
}

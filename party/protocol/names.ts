/**
 * Names and identities as schemas: slugs, ids and mail addresses (their patterns, zod-free, are in
 * patterns.ts), agents' identities and the git URLs a rig may be cloned from.
 */
import { z } from "zod";
import { parseAddress, SLUG_RE, ULID_RE } from "./patterns.ts";

export const slug = z.string().regex(SLUG_RE, "must be a slug: a-z, 0-9 and '-', 1-40 chars, not starting with '-'");
/** Generated ids: ULIDs (sortable by time, collision-free). */
export const ulidString = z.string().regex(ULID_RE, "must be a ULID");

export function polecatIdentity(rigName: string, name: string): string {
  return `${rigName}/polecats/${name}`;
}

/**
 * Why a git URL is refused, or null. Allowed: https://, ssh:// or scp-like `user@host:path`,
 * git://, file:// and absolute local paths. Remote helpers (`ext::`, `fd::`, any `<x>::`) run
 * commands or hang; plain http sends credentials in clear; a leading `-` would be an option to git.
 */
export function gitUrlProblem(url: string): string | null {
  if (url.startsWith("-")) return "must not start with '-'";
  if (/^[\w+.-]+::/.test(url)) return "remote helpers (<transport>::…) are not allowed: use https, ssh, git or a local path";
  if (/[\s\x00-\x1f\x7f]/.test(url)) return "must not contain spaces or control characters";
  if (/^(https|ssh|git|file):\/\//i.test(url)) return null;
  if (/^[A-Za-z][\w+.-]*:\/\//.test(url)) return `the ${url.split(":")[0]} protocol is not allowed: use https, ssh, git or a local path`;
  if (url.startsWith("/")) return null;
  if (/^[\w.-]+@[\w.-]+:[^/]/.test(url) || /^[\w.-]+@[\w.-]+:\//.test(url)) return null; // scp-like ssh
  return "must be an https://, ssh://, git:// or file:// URL, user@host:path, or an absolute path";
}

/** A git URL as people may see it: any password or token in it replaced by `***`. */
export function redactGitUrl(url: string): string {
  return url
    .replace(/^([a-z][\w+.-]*:\/\/)([^@/?#]*)@/i, (_whole, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(":");
      if (colon >= 0) return `${scheme}${userinfo.slice(0, colon)}:***@`;
      return `${scheme}${userinfo.length >= 20 ? "***" : userinfo}@`;
    })
    .replace(/([?&][^=&#]*(?:token|key|secret|password|auth)[^=&#]*=)[^&#]*/gi, "$1***");
}

export const address = z
  .string()
  .max(120)
  .refine((s) => parseAddress(s) !== null, {
    message: "must be mayor, operator, <rig>/witness, <rig>/refinery or <rig>/polecats/<name>",
  });

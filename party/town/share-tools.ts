/**
 * Share links, carried out (paths, views and link records are in share.ts): gt_share signs a
 * viewer token for one view and keeps the link (`shares:<id>`), gt_share_list lists the open ones,
 * and gt_share_revoke closes the link's sockets here and, through the outbox, in every rig room.
 */
import { signToken } from "../auth.ts";
import { newId } from "../ids.ts";
import { tool, type ToolSpec } from "../live/index.ts";
import { ToolError, townToolArgs, type ShareLink, type ShareResult } from "../protocol.ts";
import { ROLES, audited, outboxPuts, requireRig, requireTownWide, rigsOf, sendNow, type Town } from "./context.ts";
import { revokeEntry } from "./entries.ts";
import { newLink, parseSharePath, shareView, sortLinks, tokenExp } from "./share.ts";

const PREFIX = "shares:";

export function shareTools(town: Town): Record<string, ToolSpec<any>> {
  return {
    gt_share: tool(townToolArgs.gt_share, ROLES.operator, async (args, caller): Promise<ShareResult> => {
      requireTownWide(caller, "make share links");
      town.rateLimit(caller, "share");
      const parsed = parseSharePath(args.path, town.id);
      if (!parsed.ok) throw new ToolError("INVALID_ARGS", `path: ${parsed.reason}`);
      const view = shareView(parsed.view, (name) => requireRig(town, name).id);
      const { claims, link } = newLink(town.id, newId(), parsed.path, view, args.ttl_s, Date.now());
      const token = await signToken(claims, town.secret);
      const audit = audited(town, caller, { action: "link_mint", text: `made a read-only link for ${parsed.path}`, link: link.id });
      await town.records.write([], [town.feedEvent("share", `read-only link made for ${parsed.path}`)], {
        put: { [`${PREFIX}${link.id}`]: link, ...audit.put },
      });
      await audit.commit();
      return { id: link.id, path: `${parsed.path}?token=${token}`, token, expiresAt: link.expiresAt, view };
    }),
    gt_share_list: tool(townToolArgs.gt_share_list, ROLES.operator, async (_args, caller) => {
      requireTownWide(caller, "list share links");
      const { live, expired } = sortLinks([...(await town.storage.list<ShareLink>({ prefix: PREFIX })).values()], Date.now());
      if (expired.length) await town.storage.delete(expired.map((l) => `${PREFIX}${l.id}`));
      return live;
    }),
    gt_share_revoke: tool(townToolArgs.gt_share_revoke, ROLES.operator, async (args, caller) => {
      requireTownWide(caller, "revoke share links");
      const link = await town.storage.get<ShareLink>(`${PREFIX}${args.id}`);
      if (!link) throw new ToolError("INVALID_ARGS", `no share link ${args.id} (it may have expired)`);
      if (link.revokedAt) return link;
      const revoked: ShareLink = { ...link, revokedAt: Date.now() };
      // Every rig room hears of it through the outbox, so a link's open pages close everywhere.
      const entries = rigsOf(town).map((rig) => revokeEntry(rig.id, link.id, tokenExp(link), Date.now()));
      const audit = audited(town, caller, { action: "link_revoke", text: `revoked the read-only link for ${link.path}`, link: link.id });
      await town.records.write([], [town.feedEvent("share", `read-only link for ${link.path} revoked`)], {
        put: { [`${PREFIX}${link.id}`]: revoked, ...outboxPuts(entries), ...audit.put },
      });
      await audit.commit();
      await town.revokeToken(link.id, tokenExp(link));
      await sendNow(town, entries);
      return revoked;
    }),
  };
}

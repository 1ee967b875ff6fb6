/**
 * The town's mail, wired to the shared post office (party/post-office.ts): the inboxes of `mayor`
 * and `operator` live here, in a document of their own; mail to a rig's address is relayed to its
 * rig room, resolving the rig's name when it goes (the rig may have been removed meanwhile).
 */
import { jsonResponse, errorResponse, tool, type Caller, type ToolSpec } from "../live/index.ts";
import { mailEnvelope } from "../internal.ts";
import { routeFromTown, unknownRecipient } from "../mail.ts";
import { classifyReply, type Attempt } from "../outbox.ts";
import { PostOffice } from "../post-office.ts";
import type { Staged } from "../audit.ts";
import { TOWN_DOC, ToolError, parseAddress, townToolArgs, type Mail, type MailSendResult } from "../protocol.ts";
import { newId } from "../ids.ts";
import { ROLES, audited, requireTownWide, rigByName, type Town } from "./context.ts";

export class TownMail {
  /** Mail of `mayor` and `operator`, and the hops to rigs (see PostOffice). */
  readonly post: PostOffice;

  constructor(private readonly town: Town) {
    this.post = new PostOffice({
      collection: TOWN_DOC.mail,
      storage: town.storage,
      get: (id) => town.records.get<Mail>(TOWN_DOC.mail, id),
      all: () => town.records.values<Mail>(TOWN_DOC.mail),
      write: (changes, events, extra) => town.records.write(changes, events, extra),
      outbox: () => town.outbox,
      feedEvent: (kind, text, about) => town.feedEvent(kind, text, about),
      pushEvent: (identity, frame) => town.pushEvent(identity, frame),
      hop: (mail) => this.deliverToRig(mail),
      isLocal: (address) => address === "mayor" || address === "operator",
      // The town's feed is in the town document, which more people read than its mail: no subjects.
      feedLine: (mail) => `mail from ${mail.from} to ${mail.to}`,
    });
  }

  tools(): Record<string, ToolSpec<any>> {
    return {
      gt_mail_send: tool(townToolArgs.gt_mail_send, ROLES.mailers, async (args, caller) => {
        if (caller.token.role === "operator") requireTownWide(caller, "send town mail");
        const from = caller.token.role === "agent" ? "mayor" : (args.from ?? "operator");
        if (caller.token.role === "agent" && args.from && args.from !== "mayor") throw new ToolError("FORBIDDEN", "the Mayor sends as mayor");
        this.town.rateLimit(caller, "mail");
        const audit =
          caller.token.role === "operator"
            ? audited(this.town, caller, { action: "mail_send", text: `sent mail as ${from} to ${args.to}: "${args.subject}"` })
            : undefined;
        return this.send({ ...args, from }, audit);
      }),
      gt_mail_check: tool(townToolArgs.gt_mail_check, ROLES.mailers, async (args, caller) => this.post.check(this.inboxOf(caller, args.as))),
      gt_mail_ack: tool(townToolArgs.gt_mail_ack, ROLES.mailers, async (args, caller) => this.post.ack(this.inboxOf(caller, args.as), args.ids)),
      gt_mail_read: tool(townToolArgs.gt_mail_read, ROLES.mailers, async (args, caller) => this.post.read(this.inboxOf(caller, args.as), args.id)),
    };
  }

  /** `mail`, from a rig's outbox: town mail is stored here; mail for another rig is relayed to it. */
  async relay(body: unknown): Promise<Response> {
    const { mail } = mailEnvelope.parse(body);
    const route = routeFromTown(mail.to);
    if (route.kind === "local") {
      await this.post.receive(mail);
      return jsonResponse({ ok: true, value: { id: mail.id, state: "delivered" } });
    }
    const attempt = await this.deliverToRig(mail);
    switch (attempt.kind) {
      case "delivered":
        return jsonResponse({ ok: true, value: { id: mail.id, state: "delivered" } });
      case "rejected":
        return errorResponse("UNKNOWN_RECIPIENT", attempt.error.replace(/^UNKNOWN_RECIPIENT: /, ""));
      case "retry":
        return errorResponse("INTERNAL", `relay failed: ${attempt.error}`);
    }
  }

  /** The town inbox a caller reads: the Mayor only its own; town-wide operators either (default: operator). */
  private inboxOf(caller: Caller, as: "mayor" | "operator" | undefined): "mayor" | "operator" {
    const token = caller.token;
    if (token.role !== "agent") {
      requireTownWide(caller, "read the town's mail");
      return as ?? "operator";
    }
    if (as !== undefined && as !== "mayor") throw new ToolError("FORBIDDEN", "the Mayor reads only the mayor inbox");
    return "mayor";
  }

  private send(args: { to: string; subject: string; body: string; from: string; id?: string | undefined }, audit?: Staged): Promise<MailSendResult> {
    const fields = { id: args.id ?? newId(), from: args.from, to: args.to, subject: args.subject, body: args.body };
    return this.post.send(
      fields,
      () => {
        const route = routeFromTown(args.to);
        if (route.kind === "rig" && !rigByName(this.town, route.rigName)) throw unknownRecipient(args.to, "no such rig");
        return route.kind === "local";
      },
      audit,
    );
  }

  /** Delivers to the recipient's rig room, resolving the rig name now (it may have been removed). */
  private async deliverToRig(mail: Mail): Promise<Attempt> {
    const address = parseAddress(mail.to);
    const rig = address?.kind === "rig" ? rigByName(this.town, address.rig) : undefined;
    if (!rig) return { kind: "rejected", error: `UNKNOWN_RECIPIENT: unknown recipient ${mail.to}: no such rig` };
    const reply = await this.town.callRig(rig.id, "mail", { mail });
    return classifyReply(reply.status, reply.body);
  }
}

/**
 * Gas Town's mail addresses as Townhall's (party/protocol/patterns.ts parseAddress), in one pure function.
 * Gas Town agents write `mayor/`, `<rig>/<name>` for a polecat, `<rig>/witness`, `<rig>/refinery`
 * and `--human` for the person; Townhall names the same mailboxes `mayor`, `<rig>/polecats/<name>`,
 * `<rig>/witness`, `<rig>/refinery` and `operator`. docs/gt.md has the table.
 */
import { parseAddress, SLUG_RE } from "../../party/protocol/patterns.ts";

export type AddressMapping = { address: string } | { error: string };

/** Gas Town's names for the person at the dashboard (Townhall's `operator`). */
const HUMAN = new Set(["human", "human/", "overseer", "overseer/", "operator/"]);

/**
 * The Townhall address for a Gas Town (or Townhall) address, or why there is none. Townhall
 * addresses pass through unchanged. A polecat's name is lower-cased: Gas Town names them `Toast`,
 * Townhall's identities are lower case only, so the two cannot mean different polecats.
 */
export function townhallAddress(input: string): AddressMapping {
  const text = input.trim();
  if (parseAddress(text)) return { address: text };
  if (text === "mayor/") return { address: "mayor" };
  if (HUMAN.has(text)) return { address: "operator" };
  if (text === "deacon/" || text === "deacon") return { error: "Townhall has no deacon; the town's coordinator is mayor/, its person --human" };
  if (text.startsWith("list:")) return { error: `${text}: Townhall has no mailing lists; send to each address` };
  if (text === "--self" || text === "self") return { error: "Townhall has no mail to yourself; save notes with gt checkpoint" };
  const parts = text.replace(/\/$/, "").split("/");
  const [rig = "", second, third] = parts;
  if (!SLUG_RE.test(rig)) return { error: `${JSON.stringify(input)} is not an address (mayor/, <rig>/<polecat>, <rig>/witness, <rig>/refinery, or --human)` };
  if (parts.length === 1) {
    return text.endsWith("/")
      ? { error: `${text}: Townhall has no broadcast to a rig; send to <rig>/witness or to each <rig>/<polecat>` }
      : {
          error: `${JSON.stringify(input)} is not an address: a rig alone is not a mailbox (mayor/, <rig>/<polecat>, <rig>/witness, <rig>/refinery, or --human)`,
        };
  }
  if (parts.length === 2 && (second === "witness" || second === "refinery")) return { address: `${rig}/${second}` };
  if (parts.length === 2 && second) {
    const polecat = `${rig}/polecats/${second.toLowerCase()}`;
    if (parseAddress(polecat)) return { address: polecat };
  }
  if (parts.length === 3 && (second === "crew" || second === "dogs"))
    return { error: `${text}: Townhall has no ${second}; its rig agents are polecats, the witness and the refinery` };
  if (parts.length === 3 && second === "polecats" && third) {
    const polecat = `${rig}/polecats/${third.toLowerCase()}`;
    if (parseAddress(polecat)) return { address: polecat };
  }
  return { error: `${JSON.stringify(input)} is not an address (mayor/, <rig>/<polecat>, <rig>/witness, <rig>/refinery, or --human)` };
}

/** Towns for the e2e tests: ready rigs, a stand-in container that makes agents work, URLs with tokens. */
import type { Bead, Rig, StartAgentCommand } from "../../party/protocol.ts";
import { makeTown, type TestTown } from "../helpers/town.ts";

export async function e2eTown(host: string, secret: string, prefix = "e2e") {
  const town = await makeTown(host, secret, prefix);
  return {
    ...town,
    url: (path = "", token = town.operator) => `http://${host}/t/${town.town}${path}?token=${token}`,
    /** A rig the container has cloned (status ready), so the Mayor may sling to it. */
    async readyRig(name: string, extra: Record<string, unknown> = {}): Promise<Rig> {
      const rig = await town.addRig(name, extra);
      await town.rigCall(rig, "gt_rig_ready", { disk_bytes: 12_345_678 }, town.container);
      return rig;
    },
  };
}
export type E2ETown = Awaited<ReturnType<typeof e2eTown>>;

/**
 * Stands in for the town container of `rig`: holds its lease, then a new bead is dispatched to a
 * polecat, which is `working` from the start_agent command on. No heartbeat follows, so the witness
 * marks it stalled after half its timeout.
 */
export async function workingAgent(town: TestTown, rig: Rig, title = "Refactor the build"): Promise<{ bead: Bead; start: StartAgentCommand }> {
  const container = town.agentSocket(rig, town.container);
  await container.ready;
  const started = new Promise<StartAgentCommand>((resolve) => {
    const off = container.onCommand((command) => {
      if (command.command !== "start_agent") return;
      off();
      resolve(command);
    });
  });
  await town.rigCall(rig, "gt_rig_ready", { disk_bytes: 1_000_000 }, town.container);
  const bead = await town.rigCall<Bead>(rig, "gt_bead_create", { title });
  return { bead, start: await started };
}

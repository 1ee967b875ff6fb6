/** The ToolError a pure function throws, as its code and message; any other outcome fails the test. */
import { ToolError } from "../../party/protocol.ts";

export function refusal(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof ToolError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected a refusal");
}

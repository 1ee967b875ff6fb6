/**
 * The two failures of gt's own making, shared by its commands and `gt mcp`: a bad invocation, and a
 * server that could not be reached. (A tool that answered an error is client/tool-http.ts's ToolCallError.)
 */

/** Bad invocation: a missing or invalid variable, option or argument. `gt` exits 2. */
export class GtUsageError extends Error {
  override name = "GtUsageError";
  constructor(
    message: string,
    /** When the tool's schema refused the arguments: the schema's fields (gt names them as its options). */
    readonly fields: readonly string[] = [],
  ) {
    super(message);
  }
}

/** The server could not be reached (or answered something that is not a tool reply). `gt` exits 4. */
export class GtUnreachableError extends Error {
  override name = "GtUnreachableError";
}

import type * as engineGrpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import type { Notice } from "../core/overlap";
import type { Protocol } from "./protocol";

/** How long a notice may take to reach the engine before the call it belongs to goes on. */
const LOG_WAIT_MS = 5_000;

/**
 * Notices for the person running `pulumi`, sent to the engine's `pulumirpc.Engine` service at
 * the address the engine passes the plugin: `Log` at severity INFO with the resource's URN, which
 * the CLI shows among that resource's diagnostics. A plugin's own stdout and stderr are not
 * shown (the engine keeps them for `-v` logs), so this is its one channel besides outputs and
 * errors. A notice that cannot be delivered goes to stderr instead, and fails nothing.
 */
export class EngineLog {
  private client: engineGrpc.EngineClient | undefined;

  constructor(
    private readonly p: Protocol,
    private readonly address: string | undefined,
  ) {}

  notify(notice: Notice): Promise<void> {
    const { engine, engineRpc, grpc } = this.p;
    const fallback = () =>
      process.stderr.write(`pulumi-resource-octopusapikey: ${notice.message}\n`);
    if (!this.address) {
      fallback();
      return Promise.resolve();
    }
    this.client ??= new engineRpc.EngineClient(this.address, grpc.credentials.createInsecure());
    const request = new engine.LogRequest()
      .setSeverity(engine.LogSeverity.INFO)
      .setMessage(notice.message)
      .setUrn(notice.urn ?? "");
    return new Promise((resolve) => {
      const deadline = new Date(Date.now() + LOG_WAIT_MS);
      this.client?.log(request, new grpc.Metadata(), { deadline }, (error) => {
        if (error) fallback();
        resolve();
      });
    });
  }
}

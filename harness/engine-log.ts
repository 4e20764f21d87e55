import type * as grpc from "@grpc/grpc-js";
import type * as enginePb from "@pulumi/pulumi/proto/engine_pb";
import { loadProtocol } from "../provider/plugin/protocol";

/**
 * The engine's own gRPC service (`pulumirpc.Engine`), as far as a resource plugin uses it: `Log`,
 * recorded here. The engine passes its address to every plugin it starts; give this one's to
 * {@link launchPlugin} (`engine`) to see what a plugin tells the person running `pulumi`.
 */

export interface LogEntry {
  severity: "debug" | "info" | "warning" | "error";
  message: string;
  urn: string;
}

const SEVERITIES = ["debug", "info", "warning", "error"] as const;

export interface EngineLogServer {
  /** `127.0.0.1:<port>`, as the engine passes it. */
  address: string;
  /** Every Log call so far, in order. */
  entries: LogEntry[];
  close(): Promise<void>;
}

export async function startEngineLog(): Promise<EngineLogServer> {
  const p = loadProtocol();
  const server = new p.grpc.Server();
  const entries: LogEntry[] = [];
  server.addService(p.engineRpc.EngineService, {
    log(
      call: grpc.ServerUnaryCall<enginePb.LogRequest, unknown>,
      done: grpc.sendUnaryData<unknown>,
    ) {
      const request = call.request;
      entries.push({
        severity: SEVERITIES[request.getSeverity()] ?? "debug",
        message: request.getMessage(),
        urn: request.getUrn(),
      });
      done(null, new p.empty.Empty());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", p.grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    entries,
    close: () =>
      new Promise((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
}

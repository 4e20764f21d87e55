#!/usr/bin/env node
import * as fs from "node:fs";
import { EngineLog } from "./engine-log";
import { loadProtocol } from "./protocol";
import { packageVersion, PluginService } from "./server";

/**
 * `pulumi-resource-octopusapikey`: the resource provider plugin, started by the Pulumi engine as
 * `pulumi-resource-octopusapikey [flags] <engine address>`. It serves `pulumirpc.ResourceProvider`
 * on a port of 127.0.0.1 it picks, prints that port as the first line of stdout (the engine reads
 * exactly that line), and stays up across calls until the engine goes.
 *
 * How the engine ends a plugin (pulumi/pulumi pkg/host/host.go, pkg/resource/plugin/plugin.go):
 * it calls Cancel, closes its connection, sends SIGINT to the plugin's process group, and kills
 * it 5 seconds later. So the plugin exits, with status 0, on SIGINT or SIGTERM; and, for an engine
 * that died without that (killed, crashed), when its end of stdin closes: the engine starts each
 * plugin with a pipe on stdin, which the system closes with the engine. stdin that is not a pipe
 * (a terminal, /dev/null as a language host gives) is not watched.
 *
 * The engine passes its logging and tracing flags (`-v=9`, `--logtostderr`, `--tracing <url>`)
 * before the address; they are skipped. The plugin dials the engine only to log a notice
 * (./engine-log).
 */

/** The engine's address: the first argument that is not a flag (nor a flag's value). */
export function engineAddress(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--tracing") i++;
    else if (!args[i].startsWith("-")) return args[i];
  }
  return undefined;
}

/** How long in-flight calls may finish after the engine asks the plugin to stop. */
const SHUTDOWN_GRACE_MS = 2_000;

export async function serve(args: string[]): Promise<void> {
  const address = engineAddress(args);
  if (address === undefined) {
    process.stderr.write("pulumi-resource-octopusapikey: missing the engine's address argument\n");
    process.exit(2);
  }
  const protocol = loadProtocol();
  const { grpc, rpc } = protocol;
  const server = new grpc.Server({
    // As the engine's own limits (pulumi/pulumi rpcutil): a state is small, a listing need not be.
    "grpc.max_receive_message_length": 400 * 1024 * 1024,
    "grpc.max_send_message_length": 400 * 1024 * 1024,
  });
  const service = new PluginService(protocol, packageVersion(), new EngineLog(protocol, address));
  server.addService(rpc.ResourceProviderService, service.implementation());
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  process.stdout.write(`${port}\n`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => server.forceShutdown(), SHUTDOWN_GRACE_MS);
    force.unref();
    server.tryShutdown(() => {
      clearTimeout(force);
      process.exit(0);
    });
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  if (stdinIsPipe()) {
    process.stdin.on("end", stop).on("close", stop).on("error", stop).resume();
  }
}

function stdinIsPipe(): boolean {
  try {
    const stat = fs.fstatSync(0);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}

/** Serves with the process's arguments; a failure to start ends the process with status 1. */
export function run(): void {
  serve(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`pulumi-resource-octopusapikey: ${(error as Error)?.message ?? error}\n`);
    process.exit(1);
  });
}

if (require.main === module) run();

/**
 * Drives the real `@pulumi/pulumi` dynamic provider host (`cmd/dynamic-provider`) over gRPC the way the
 * Pulumi engine does, without the Pulumi CLI.
 *
 * What the engine sends, per call (mirrored by this harness; the property bags are the caller's):
 * - Configure: the whole stack config, `args` keyed `"<namespace>:<key>"` (secure values wrapped as
 *   secrets, which the host unwraps) and `variables` keyed `"pulumi-nodejs:config:<namespace>:<key>"`.
 *   The host reads only `args`. Always first: the host configures a provider with whatever config it
 *   holds when that provider text is first used, so this harness refuses CRUD calls before it.
 * - Check: `olds` = the previous **inputs** from state (`{}` on first create), `news` = the program's
 *   new inputs. Both carry `__provider`; during preview unknown values arrive as {@link UNKNOWN}.
 * - Diff / Update: `olds` = the previous **outputs** from state, `news` = the inputs Check returned.
 * - Create: the inputs Check returned. Read / Delete: the stored **outputs** (Read may also get the
 *   stored inputs). Outputs always hold `__provider` (the host adds it), so pass results back verbatim.
 * - The host answers Configure with `acceptSecrets: false`, so the engine strips secret wrappers from
 *   every property bag it sends: pass plain values. The engine also sends `old_inputs` on
 *   Diff/Update/Delete; the host ignores them, so this harness does not.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import type * as grpcModule from "@grpc/grpc-js";
import type * as providerGrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import type * as providerPb from "@pulumi/pulumi/proto/provider_pb";
import type * as statusPb from "@pulumi/pulumi/proto/status_pb";
import type * as structPb from "google-protobuf/google/protobuf/struct_pb";

/** The string the engine substitutes for values not known during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const CALL_TIMEOUT_MS = 120_000;
const START_TIMEOUT_MS = 60_000;
const MAX_MESSAGE = 400 * 1024 * 1024;

export interface HostOptions {
  /** The Pulumi project directory: the host runs there, so its `require()`s resolve from it. */
  cwd: string;
  /** Full environment for the child (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** The node binary (default `process.execPath`). */
  nodePath?: string;
  /** The host script (default: `@pulumi/pulumi/cmd/dynamic-provider` resolved from `cwd`, else from this repo). */
  hostScript?: string;
}

export interface CheckFailure {
  property: string;
  reason: string;
}

/** A create/update that failed after the resource existed (`ErrorResourceInitFailed`): the engine keeps it in state. */
export interface PartialFailure {
  id: string;
  properties: Record<string, unknown>;
  reasons: string[];
}

/** A gRPC error from the host. `message` is the error details, i.e. what the engine would print. */
export class HostCallError extends Error {
  constructor(
    message: string,
    readonly grpcCode: number,
    readonly partial?: PartialFailure,
  ) {
    super(message);
    this.name = "HostCallError";
  }
}

type Props = Record<string, unknown>;

export interface ProviderHost {
  readonly pid: number;
  /** ConfigureRequest with the stack config (`{"octopusdeploy:apiKey": "..."}`); keys in `secretKeys` are sent as secrets. */
  configure(config: Record<string, string>, options?: { secretKeys?: string[] }): Promise<void>;
  /** `olds` = previous inputs (`{}` on create), `news` = new program inputs; both with `__provider`. */
  check(
    urn: string,
    olds: Props,
    news: Props,
  ): Promise<{ inputs: Props; failures: CheckFailure[] }>;
  /** `olds` = previous outputs, `news` = the inputs Check returned. */
  diff(
    id: string,
    urn: string,
    olds: Props,
    news: Props,
  ): Promise<{
    changes: "none" | "some" | "unknown";
    replaces: string[];
    deleteBeforeReplace: boolean;
  }>;
  /**
   * `properties` = the inputs Check returned. Rejects with {@link HostCallError} (`.partial` set when the
   * provider threw an error carrying `id`). With `preview: true` the host is NOT called, as the engine
   * does for the dynamic host (it does not advertise `supportsPreview`): you get `{ id: "", properties }`.
   */
  create(
    urn: string,
    properties: Props,
    opts?: { preview?: boolean },
  ): Promise<{ id: string; properties: Props }>;
  /** `properties` = stored outputs, `inputs` = stored inputs. `id` is `""` when the resource is gone. */
  read(
    id: string,
    urn: string,
    properties: Props,
    inputs?: Props,
  ): Promise<{ id: string; properties: Props; inputs?: Props }>;
  /** `olds` = previous outputs, `news` = the inputs Check returned. */
  update(id: string, urn: string, olds: Props, news: Props): Promise<{ properties: Props }>;
  /** `properties` = stored outputs. */
  delete(id: string, urn: string, properties: Props): Promise<void>;
  /** Everything the child wrote to stdout and stderr so far. */
  output(): string;
  /** Closes the channel and kills the child; idempotent. */
  close(): Promise<void>;
}

/** The URN the engine gives a dynamic resource of this package in stack `test`. */
export function resourceUrn(
  name: string,
  type = "pulumi-nodejs:dynamic/octopusdeploy:ApiKey",
): string {
  return `urn:pulumi:test::pulumi-octopus-apikey::${type}::${name}`;
}

interface Modules {
  grpc: typeof grpcModule;
  provider: typeof providerPb;
  rpc: typeof providerGrpc;
  status: typeof statusPb;
  struct: typeof structPb;
}

/** Loads gRPC and the protos from the `@pulumi/pulumi` that owns `hostScript`, so both ends share one schema. */
function loadModules(hostScript: string): Modules {
  let dir = path.dirname(hostScript);
  let root = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
  for (; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (
      fs.existsSync(manifest) &&
      JSON.parse(fs.readFileSync(manifest, "utf8")).name === "@pulumi/pulumi"
    ) {
      root = dir;
      break;
    }
  }
  const load = createRequire(path.join(root, "package.json"));
  return {
    grpc: load("@grpc/grpc-js"),
    provider: load("./proto/provider_pb"),
    rpc: load("./proto/provider_grpc_pb"),
    status: load("./proto/status_pb"),
    struct: load("google-protobuf/google/protobuf/struct_pb"),
  };
}

function defaultHostScript(cwd: string): string {
  const id = "@pulumi/pulumi/cmd/dynamic-provider";
  try {
    return require.resolve(id, { paths: [cwd] });
  } catch {
    return require.resolve(id);
  }
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: grpcModule.Metadata,
  options: Partial<grpcModule.CallOptions>,
  callback: (error: grpcModule.ServiceError | null, response: Res) => void,
) => grpcModule.ClientUnaryCall;

/**
 * Spawns `node <hostScript> <engine-address>` in `options.cwd` (the host never dials the address), reads
 * the port from the first stdout line and connects a `pulumirpc.ResourceProvider` client. Calls may run
 * in parallel; each has a 120 s deadline and all pending calls reject as soon as the child exits.
 */
export async function startProviderHost(options: HostOptions): Promise<ProviderHost> {
  const hostScript = options.hostScript ?? defaultHostScript(options.cwd);
  const m = loadModules(hostScript);
  const child = spawn(options.nodePath ?? process.execPath, [hostScript, "127.0.0.1:0"], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let exitError: Error | undefined;
  const pending = new Set<(error: Error) => void>();
  const exited = new Promise<void>((resolve) => {
    const onExit = (reason: string) => {
      exitError ??= new Error(`provider host ${reason}\n${output}`);
      for (const reject of pending) reject(exitError);
      resolve();
    };
    child.once("exit", (code, signal) => onExit(`exited (code ${code}, signal ${signal})`));
    child.once("error", (error) => onExit(`failed to start: ${error.message}`));
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => (output += chunk));
  }

  const port = await new Promise<number>((resolve, reject) => {
    let stdout = "";
    const fail = (error: Error) => {
      clearTimeout(timer);
      pending.delete(fail);
      child.stdout.off("data", onData);
      child.kill("SIGKILL");
      reject(error);
    };
    const onData = (chunk: string) => {
      stdout += chunk;
      const newline = stdout.indexOf("\n");
      if (newline < 0) return;
      const line = stdout.slice(0, newline).trim();
      if (!/^\d+$/.test(line))
        return fail(new Error(`unexpected first line from provider host: ${line}\n${output}`));
      clearTimeout(timer);
      pending.delete(fail);
      child.stdout.off("data", onData);
      resolve(Number(line));
    };
    const timer = setTimeout(
      () => fail(new Error(`provider host did not print its port\n${output}`)),
      START_TIMEOUT_MS,
    );
    pending.add(fail);
    child.stdout.on("data", onData);
  });

  const client = new m.rpc.ResourceProviderClient(
    `127.0.0.1:${port}`,
    m.grpc.credentials.createInsecure(),
    {
      "grpc.max_receive_message_length": MAX_MESSAGE,
    },
  );
  let configured = false;
  let closed = false;

  const unary = <Req, Res>(method: UnaryMethod<Req, Res>, request: Req): Promise<Res> =>
    new Promise<Res>((resolve, reject) => {
      if (exitError) return reject(exitError);
      let call: grpcModule.ClientUnaryCall | undefined = undefined;
      const abort = (error: Error) => {
        pending.delete(abort);
        call?.cancel();
        reject(error);
      };
      pending.add(abort);
      const deadline = new Date(Date.now() + CALL_TIMEOUT_MS);
      call = method.call(
        client,
        request,
        new m.grpc.Metadata(),
        { deadline },
        (error, response) => {
          if (!error) {
            pending.delete(abort);
            resolve(response);
          } else if (error.code === m.grpc.status.UNAVAILABLE) {
            // Usually the child died: give its exit a moment to reject with its output instead.
            setTimeout(() => abort(toHostCallError(m, error)), 1000).unref();
          } else {
            abort(toHostCallError(m, error));
          }
        },
      );
    });

  const struct = (props: Props, label: string): structPb.Struct => {
    try {
      return m.struct.Struct.fromJavaScript(props as Record<string, structPb.JavaScriptValue>);
    } catch (error) {
      throw new Error(`${label} must hold plain JSON values (no undefined): ${error}`, {
        cause: error,
      });
    }
  };
  const plain = (s: structPb.Struct | undefined): Props => (s ? (s.toJavaScript() as Props) : {});
  const resource = <
    T extends { setUrn(v: string): T; setName(v: string): T; setType(v: string): T },
  >(
    request: T,
    urn: string,
  ): T => {
    if (!configured) throw new Error("configure() the host first: the engine always does");
    const [, , type = "", name = ""] = urn.split("::");
    return request.setUrn(urn).setName(name).setType(type);
  };
  const { provider: pb } = m;

  return {
    pid: child.pid ?? -1,
    async configure(config, opts) {
      const secret = new Set(opts?.secretKeys ?? []);
      const args: Props = {};
      const request = new pb.ConfigureRequest()
        .setAcceptsecrets(true)
        .setAcceptresources(true)
        .setSendsOldInputs(true)
        .setSendsOldInputsToDelete(true);
      for (const [key, value] of Object.entries(config)) {
        request.getVariablesMap().set(`pulumi-nodejs:config:${key}`, value);
        args[key] = secret.has(key) ? { [SECRET_SIG_KEY]: SECRET_SIG, value } : value;
      }
      request.setArgs(struct(args, "config"));
      await unary(client.configure, request);
      configured = true;
    },
    async check(urn, olds, news) {
      const request = resource(new pb.CheckRequest(), urn)
        .setOlds(struct(olds, "olds"))
        .setNews(struct(news, "news"))
        .setRandomseed(randomBytes(32));
      const response = await unary(client.check, request);
      const failures = response
        .getFailuresList()
        .map((f) => ({ property: f.getProperty(), reason: f.getReason() }));
      return { inputs: plain(response.getInputs()), failures };
    },
    async diff(id, urn, olds, news) {
      const request = resource(new pb.DiffRequest(), urn)
        .setId(id)
        .setOlds(struct(olds, "olds"))
        .setNews(struct(news, "news"));
      const response = await unary(client.diff, request);
      const { DIFF_NONE, DIFF_SOME } = pb.DiffResponse.DiffChanges;
      const changes = response.getChanges();
      return {
        changes: changes === DIFF_NONE ? "none" : changes === DIFF_SOME ? "some" : "unknown",
        replaces: response.getReplacesList(),
        deleteBeforeReplace: response.getDeletebeforereplace(),
      };
    },
    async create(urn, properties, opts) {
      const request = resource(new pb.CreateRequest(), urn).setProperties(
        struct(properties, "properties"),
      );
      if (opts?.preview) return { id: "", properties: plain(request.getProperties()) };
      const response = await unary(client.create, request);
      return { id: response.getId(), properties: plain(response.getProperties()) };
    },
    async read(id, urn, properties, inputs) {
      const request = resource(new pb.ReadRequest(), urn)
        .setId(id)
        .setProperties(struct(properties, "properties"));
      if (inputs) request.setInputs(struct(inputs, "inputs"));
      const response = await unary(client.read, request);
      const result: { id: string; properties: Props; inputs?: Props } = {
        id: response.getId(),
        properties: plain(response.getProperties()),
      };
      if (response.hasInputs()) result.inputs = plain(response.getInputs());
      return result;
    },
    async update(id, urn, olds, news) {
      const request = resource(new pb.UpdateRequest(), urn)
        .setId(id)
        .setOlds(struct(olds, "olds"))
        .setNews(struct(news, "news"));
      const response = await unary(client.update, request);
      return { properties: plain(response.getProperties()) };
    },
    async delete(id, urn, properties) {
      const request = resource(new pb.DeleteRequest(), urn)
        .setId(id)
        .setProperties(struct(properties, "properties"));
      await unary(client.delete, request);
    },
    output: () => output,
    async close() {
      if (closed) return exited;
      closed = true;
      client.close();
      if (!exitError) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Converts a gRPC error into a {@link HostCallError}, unpacking `ErrorResourceInitFailed` from `grpc-status-details-bin`. */
function toHostCallError(m: Modules, error: grpcModule.ServiceError): HostCallError {
  let partial: PartialFailure | undefined;
  for (const bin of error.metadata?.get("grpc-status-details-bin") ?? []) {
    const status = m.status.Status.deserializeBinary(
      typeof bin === "string" ? Buffer.from(bin, "base64") : bin,
    );
    for (const detail of status.getDetailsList()) {
      if (!detail.getTypeUrl().endsWith("/pulumirpc.ErrorResourceInitFailed")) continue;
      const failed = m.provider.ErrorResourceInitFailed.deserializeBinary(detail.getValue_asU8());
      partial = {
        id: failed.getId(),
        properties: (failed.getProperties()?.toJavaScript() ?? {}) as Props,
        reasons: failed.getReasonsList(),
      };
    }
  }
  return new HostCallError(error.details, error.code, partial);
}

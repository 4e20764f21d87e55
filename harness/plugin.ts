/**
 * Launches the built resource plugin (`pulumi-resource-octopusapikey`) the way the Pulumi engine
 * does, and drives it over gRPC with a typed client, without the Pulumi CLI.
 *
 * How the engine runs a plugin (pulumi/pulumi pkg/resource/plugin/plugin.go, provider_plugin.go):
 * - it executes the plugin with its logging flags, if any, then its own address as the last
 *   argument; stdin is a pipe the engine holds; the first line of stdout is the port;
 * - it calls GetPluginInfo, GetSchema (for SDKs), CheckConfig/DiffConfig on the provider's
 *   inputs (secrets plain), Configure (`args` by name with secrets wrapped, and `variables`
 *   `octopusapikey:config:<name>`), then Check, Diff, Create, Read, Update, Delete and Invoke;
 * - to a plugin that accepts secrets it sends secrets wrapped (see {@link secret}) and, at
 *   preview, a typed marker per unknown value ({@link UNKNOWN} for a string);
 * - it ends the plugin with Cancel, then SIGINT (then SIGKILL after 5 s).
 * Property bags here are the wire's: pass secrets wrapped, and read results with {@link reveal}.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type * as grpc from "@grpc/grpc-js";
import type * as pb from "@pulumi/pulumi/proto/provider_pb";
import type * as structPb from "google-protobuf/google/protobuf/struct_pb";
import { loadProtocol } from "../provider/plugin/protocol";
import { secret } from "../provider/plugin/wire";
import { hostEnv } from "./engine";

export { isSecret, plain as reveal, secret, SIG_KEY, SECRET_SIG } from "../provider/plugin/wire";
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** The marker the engine sends for an unknown object (such as a `connection` output not known yet). */
export const UNKNOWN_OBJECT = "dd056dcd-154b-4c76-9bd3-c8f88648b5ff";

/** The built plugin, as `bin` names it in package.json. */
export const PLUGIN_MAIN = path.resolve(__dirname, "..", "provider", "plugin", "main.js");
export const RESOURCE_TYPE = "octopusapikey:index:ApiKey";
const CALL_TIMEOUT_MS = 60_000;
const START_TIMEOUT_MS = 30_000;

type Props = Record<string, unknown>;
export interface Failure {
  property: string;
  reason: string;
}

/** A gRPC error from the plugin; `message` is its details, what the engine would show. */
export class PluginCallError extends Error {
  constructor(
    message: string,
    readonly grpcCode: number,
  ) {
    super(message);
    this.name = "PluginCallError";
  }
}

export interface PluginOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Flags before the engine's address, as the engine passes its own (`-v=9`, `--tracing …`). */
  flags?: string[];
  /** Execute the file itself, as the engine does (made executable first, as npm does for a `bin`). */
  direct?: boolean;
  /**
   * Start it another way: `command` with `args`, then the flags and the engine's address; stdin
   * is /dev/null, as a language host runs a source plugin (`PulumiPlugin.yaml`).
   */
  via?: { command: string; args: string[] };
  /**
   * The engine's address to pass (./engine-log serves one that records Log calls). Default: one
   * where nothing listens, so that a plugin's calls to the engine fail at once.
   */
  engine?: string;
}

/** The URN the engine gives an `ApiKey` named `name` in stack `test`. */
export function pluginUrn(name: string, type = RESOURCE_TYPE): string {
  return `urn:pulumi:test::pulumi-octopus-apikey::${type}::${name}`;
}
export const PROVIDER_URN = pluginUrn("default", "pulumi:providers:octopusapikey");

const P = loadProtocol();
const { provider: m } = P;

const toStruct = (props: Props): structPb.Struct =>
  P.struct.Struct.fromJavaScript(props as Record<string, structPb.JavaScriptValue>);
const fromStruct = (s: structPb.Struct | undefined): Props =>
  s ? (s.toJavaScript() as Props) : {};
const failures = (list: pb.CheckFailure[]): Failure[] =>
  list.map((f) => ({ property: f.getProperty(), reason: f.getReason() }));
const CHANGES = ["unknown", "none", "some"] as const;
const KINDS = ["add", "add-replace", "delete", "delete-replace", "update", "update-replace"];

function withResource<
  T extends { setUrn(v: string): T; setType(v: string): T; setName(v: string): T },
>(request: T, urn: string): T {
  const [, , type = "", name = ""] = urn.split("::");
  return request.setUrn(urn).setType(type).setName(name);
}

export type Plugin = Awaited<ReturnType<typeof launchPlugin>>;

/** Starts the plugin and connects a client; calls reject as soon as the plugin exits. */
export async function launchPlugin(options: PluginOptions = {}) {
  const args = [...(options.flags ?? []), options.engine ?? "127.0.0.1:1"];
  if (options.direct) fs.chmodSync(PLUGIN_MAIN, 0o755);
  const [command, commandArgs] = options.via
    ? [options.via.command, [...options.via.args, ...args]]
    : options.direct
      ? [PLUGIN_MAIN, args]
      : [process.execPath, [PLUGIN_MAIN, ...args]];
  const child = spawn(command, commandArgs, {
    cwd: options.cwd,
    env: options.env,
    stdio: [options.via ? "ignore" : "pipe", "pipe", "pipe"],
  });
  const { stdout: out, stderr: err } = child as typeof child & {
    stdout: NodeJS.ReadableStream;
    stderr: NodeJS.ReadableStream;
  };
  let output = "";
  const pending = new Set<(error: Error) => void>();
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      for (const reject of pending)
        reject(new Error(`the plugin exited (${code ?? signal})\n${output}`));
      resolve({ code, signal });
    });
  });
  err.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  let port: string | undefined;
  const bound = await new Promise<number>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(
      () => reject(new Error(`no port printed\n${output}`)),
      START_TIMEOUT_MS,
    );
    const fail = (error: Error) => (clearTimeout(timer), reject(error));
    pending.add(fail);
    out.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      if (port !== undefined) return;
      stdout += chunk;
      const newline = stdout.indexOf("\n");
      if (newline < 0) return;
      const line = stdout.slice(0, newline);
      port = line;
      clearTimeout(timer);
      pending.delete(fail);
      if (/^\d+$/.test(line)) resolve(Number(line));
      else reject(new Error(`the first line of stdout is not a port: ${line}\n${output}`));
    });
  });
  const client = new P.rpc.ResourceProviderClient(
    `127.0.0.1:${bound}`,
    P.grpc.credentials.createInsecure(),
  );

  type Method<Req, Res> = (
    request: Req,
    metadata: grpc.Metadata,
    options: Partial<grpc.CallOptions>,
    callback: (error: grpc.ServiceError | null, response: Res) => void,
  ) => grpc.ClientUnaryCall;
  const call = <Req, Res>(method: Method<Req, Res>, request: Req): Promise<Res> =>
    new Promise<Res>((resolve, reject) => {
      pending.add(reject);
      const deadline = new Date(Date.now() + CALL_TIMEOUT_MS);
      method.call(client, request, new P.grpc.Metadata(), { deadline }, (error, response) => {
        pending.delete(reject);
        if (error) reject(new PluginCallError(error.details, error.code));
        else resolve(response);
      });
    });

  return {
    port: bound,
    pid: child.pid ?? -1,
    exited,
    output: () => output,
    async getPluginInfo() {
      return { version: (await call(client.getPluginInfo, new P.empty.Empty())).getVersion() };
    },
    async getSchema(): Promise<Props> {
      return JSON.parse(
        (await call(client.getSchema, new m.GetSchemaRequest())).getSchema(),
      ) as Props;
    },
    async checkConfig(olds: Props, news: Props) {
      const req = withResource(new m.CheckRequest(), PROVIDER_URN)
        .setOlds(toStruct(olds))
        .setNews(toStruct(news));
      const res = await call(client.checkConfig, req);
      return { inputs: fromStruct(res.getInputs()), failures: failures(res.getFailuresList()) };
    },
    async diffConfig(oldInputs: Props, news: Props) {
      const req = withResource(new m.DiffRequest(), PROVIDER_URN)
        .setOlds(toStruct(oldInputs))
        .setOldInputs(toStruct(oldInputs))
        .setNews(toStruct(news));
      const res = await call(client.diffConfig, req);
      return {
        changes: CHANGES[res.getChanges()],
        replaces: res.getReplacesList(),
        diffs: res.getDiffsList(),
      };
    },
    /** Configure as the engine sends it: `args` by name, and the same settings as `variables`. */
    async configure(args: Props, variables: Record<string, string> = {}) {
      const req = new m.ConfigureRequest()
        .setArgs(toStruct(args))
        .setAcceptsecrets(true)
        .setAcceptresources(true)
        .setSendsOldInputs(true)
        .setSendsOldInputsToDelete(true);
      for (const [key, value] of Object.entries(variables)) req.getVariablesMap().set(key, value);
      const res = await call(client.configure, req);
      return { acceptSecrets: res.getAcceptsecrets(), supportsPreview: res.getSupportspreview() };
    },
    async check(urn: string, olds: Props, news: Props) {
      const req = withResource(new m.CheckRequest(), urn)
        .setOlds(toStruct(olds))
        .setNews(toStruct(news));
      const res = await call(client.check, req);
      return { inputs: fromStruct(res.getInputs()), failures: failures(res.getFailuresList()) };
    },
    /** `olds` = stored outputs, `news` = checked inputs, `oldInputs` = stored inputs. */
    async diff(id: string, urn: string, olds: Props, news: Props, oldInputs: Props = {}) {
      const req = withResource(new m.DiffRequest(), urn)
        .setId(id)
        .setOlds(toStruct(olds))
        .setNews(toStruct(news))
        .setOldInputs(toStruct(oldInputs));
      const res = await call(client.diff, req);
      const detailed: Record<string, string> = {};
      res.getDetaileddiffMap().forEach((diff, key) => (detailed[key] = KINDS[diff.getKind()]));
      return {
        changes: CHANGES[res.getChanges()],
        replaces: res.getReplacesList(),
        deleteBeforeReplace: res.getDeletebeforereplace(),
        detailed,
      };
    },
    async create(urn: string, properties: Props) {
      const res = await call(
        client.create,
        withResource(new m.CreateRequest(), urn).setProperties(toStruct(properties)),
      );
      return { id: res.getId(), properties: fromStruct(res.getProperties()) };
    },
    /** Refresh (stored outputs and inputs), or import (`properties` empty, no inputs). */
    async read(id: string, urn: string, properties: Props = {}, inputs?: Props) {
      const req = withResource(new m.ReadRequest(), urn)
        .setId(id)
        .setProperties(toStruct(properties));
      if (inputs) req.setInputs(toStruct(inputs));
      const res = await call(client.read, req);
      return {
        id: res.getId(),
        properties: fromStruct(res.getProperties()),
        inputs: res.hasInputs() ? fromStruct(res.getInputs()) : undefined,
      };
    },
    async update(id: string, urn: string, olds: Props, news: Props, oldInputs: Props = {}) {
      const req = withResource(new m.UpdateRequest(), urn)
        .setId(id)
        .setOlds(toStruct(olds))
        .setNews(toStruct(news))
        .setOldInputs(toStruct(oldInputs));
      return { properties: fromStruct((await call(client.update, req)).getProperties()) };
    },
    async delete(id: string, urn: string, properties: Props) {
      await call(
        client.delete,
        withResource(new m.DeleteRequest(), urn).setId(id).setProperties(toStruct(properties)),
      );
    },
    async invoke(token: string, args: Props) {
      const res = await call(
        client.invoke,
        new m.InvokeRequest().setTok(token).setArgs(toStruct(args)),
      );
      return { outputs: fromStruct(res.getReturn()), failures: failures(res.getFailuresList()) };
    },
    async cancel() {
      await call(client.cancel, new P.empty.Empty());
    },
    /** Ends the plugin as the engine does: Cancel, close the channel, SIGINT. */
    async stop() {
      await call(client.cancel, new P.empty.Empty()).catch(() => undefined);
      client.close();
      child.kill("SIGINT");
      return exited;
    },
    /** The engine went without a word: its end of stdin closes. */
    async engineGone() {
      client.close();
      child.stdin?.end();
      return exited;
    },
    /** Closes the channel and kills the plugin if it still runs; idempotent. */
    async close() {
      client.close();
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/**
 * The plugin launched with {@link hostEnv} (no Octopus or proxy settings from this process) and
 * configured by argument for `emulator`, as its administrator: where most plugin tests start.
 */
export async function launchPluginFor(emulator: {
  url: string;
  admin: { apiKey: string };
}): Promise<Plugin> {
  const plugin = await launchPlugin({ env: hostEnv() });
  try {
    await plugin.configure({ address: emulator.url, apiKey: secret(emulator.admin.apiKey) });
  } catch (error) {
    await plugin.close();
    throw error;
  }
  return plugin;
}

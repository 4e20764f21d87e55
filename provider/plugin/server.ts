import * as fs from "node:fs";
import * as path from "node:path";
import type * as grpc from "@grpc/grpc-js";
import type * as pb from "@pulumi/pulumi/proto/provider_pb";
import { ConnectionSource, environmentSource } from "../core/connection/sources";
import { DECLARATION } from "../core/fields";
import { ApiKeyLifecycle } from "../core/lifecycle";
import { OctopusError } from "../octopus/errors";
import { redact } from "../octopus/redaction";
import { changedSettings, configProblems, fromConfigure, pluginConfig } from "./config";
import type { EngineLog } from "./engine-log";
import { invoke } from "./invoke";
import { fromStruct, Protocol, toStruct } from "./protocol";
import { ApiKeyResource } from "./resource";
import { buildSchema, RESOURCE_TOKEN } from "./schema";
import { fromWire } from "./wire";

/**
 * The `pulumirpc.ResourceProvider` service. Served here, with `@grpc/grpc-js` and the SDK's proto
 * modules, rather than by `@pulumi/pulumi/provider`'s `main()`, whose server falls short where
 * this resource needs it (pulumi/pulumi#10915, #3012; read in sdk/nodejs/provider/server.ts):
 * its Configure ignores the arguments the engine sends, so the provider's configuration would
 * never arrive; CheckConfig and DiffConfig answer UNIMPLEMENTED, so bad settings would pass
 * preview; Diff sends no detailed diff; a `pulumi.secret()` in a result fails to serialize (the
 * wire's secret envelope has to be written by hand anyway); and it asks for output values and
 * resource references, which this resource has no use for. What that leaves of
 * `main()` — binding a port, printing it, dispatching calls — is a few lines; the dynamic
 * provider host (`@pulumi/pulumi/cmd/dynamic-provider`) serves the same service the same way.
 *
 * Every answer's errors carry a message safe to show (redacted, in the plugin's own names of
 * settings); the engine shows `details`.
 */

type Props = Record<string, unknown>;
type Handler<Req, Res> = (request: Req) => Promise<Res> | Res;

/** The package's version, from its package.json (three folders above dist/provider/plugin/). */
export function packageVersion(): string {
  const manifest = path.join(__dirname, "..", "..", "..", "package.json");
  return (JSON.parse(fs.readFileSync(manifest, "utf8")) as { version: string }).version;
}

export class PluginService {
  /** Set by Cancel: the engine is shutting the plugin down. */
  cancelled = false;
  /** The provider's configuration, then the environment (read again at each Configure). */
  private sources: readonly ConnectionSource[] = [pluginConfig({}), environmentSource()];
  private readonly lifecycle: ApiKeyLifecycle;
  private readonly resource: ApiKeyResource;
  private schema: string | undefined;

  /** `log`: the engine's Log service, for notices (a key a rotation left live). */
  constructor(
    private readonly p: Protocol,
    private readonly version: string,
    log?: EngineLog,
  ) {
    this.lifecycle = new ApiKeyLifecycle(
      () => this.sources,
      (notice) => log?.notify(notice),
    );
    this.resource = new ApiKeyResource(this.lifecycle);
  }

  /** The implementation object `grpc.Server.addService` takes; unlisted methods answer UNIMPLEMENTED. */
  implementation(): grpc.UntypedServiceImplementation {
    const { provider: m, plugin, empty, struct } = this.p;
    return {
      getPluginInfo: this.unary(() => new plugin.PluginInfo().setVersion(this.version)),
      getSchema: this.unary(() => {
        this.schema ??= JSON.stringify(buildSchema(DECLARATION, this.version));
        return new m.GetSchemaResponse().setSchema(this.schema);
      }),
      checkConfig: this.unary((req: pb.CheckRequest) => {
        const news = req.getNews() ?? new struct.Struct();
        const failures = configProblems(fromWire(fromStruct(news)).props);
        // The settings go back as they came: the engine keeps the inputs of a provider (and
        // refuses a changed `version`), and marks secrets by name itself.
        return new m.CheckResponse().setInputs(news).setFailuresList(this.failures(failures));
      }),
      diffConfig: this.unary((req: pb.DiffRequest) => {
        const olds = fromWire(fromStruct(req.getOldInputs() ?? req.getOlds())).props;
        const changed = changedSettings(olds, fromWire(fromStruct(req.getNews())).props);
        // Never a replacement: a key's identity is its server and owner, which each key's own
        // Diff compares (a new server replaces the keys on it). So moving a stack's keys from
        // the dynamic resource's provider to this one replaces nothing.
        const { DIFF_NONE, DIFF_SOME } = m.DiffResponse.DiffChanges;
        return new m.DiffResponse()
          .setChanges(changed.length > 0 ? DIFF_SOME : DIFF_NONE)
          .setDiffsList(changed);
      }),
      configure: this.unary((req: pb.ConfigureRequest) => {
        const args = fromWire(fromStruct(req.getArgs())).props;
        const variables = new Map(req.getVariablesMap().toArray());
        this.sources = [fromConfigure(args, variables), environmentSource()];
        this.lifecycle.reset();
        // No `supportsPreview`: at preview the engine shows a new key's inputs as its outputs,
        // and calls nothing that could create one.
        return new m.ConfigureResponse().setAcceptsecrets(true).setSupportspreview(false);
      }),
      check: this.unary(async (req: pb.CheckRequest) => {
        this.resourceType(req.getType());
        const result = await this.resource.check(
          fromStruct(req.getOlds()),
          fromStruct(req.getNews()),
        );
        return new m.CheckResponse()
          .setInputs(toStruct(this.p, result.inputs))
          .setFailuresList(this.failures(result.failures));
      }),
      diff: this.unary(async (req: pb.DiffRequest) => {
        this.resourceType(req.getType());
        const result = await this.resource.diff(
          req.getId(),
          req.getUrn(),
          fromStruct(req.getOlds()),
          fromStruct(req.getNews()),
          fromStruct(req.getOldInputs()),
        );
        const { DIFF_NONE, DIFF_SOME } = m.DiffResponse.DiffChanges;
        const response = new m.DiffResponse()
          .setChanges(result.changes ? DIFF_SOME : DIFF_NONE)
          .setReplacesList(result.replaces)
          .setDeletebeforereplace(result.deleteBeforeReplace)
          .setDiffsList(Object.keys(result.detailed))
          .setHasdetaileddiff(result.changes);
        const { Kind } = m.PropertyDiff;
        for (const [key, change] of Object.entries(result.detailed)) {
          const kind = { add: Kind.ADD, delete: Kind.DELETE, update: Kind.UPDATE }[change.kind];
          // Each *_REPLACE kind follows its plain kind.
          const diff = new m.PropertyDiff().setKind(kind + (change.replaces ? 1 : 0));
          response.getDetaileddiffMap().set(key, diff.setInputdiff(true));
        }
        return response;
      }),
      create: this.unary(async (req: pb.CreateRequest) => {
        this.resourceType(req.getType());
        const result = await this.resource.create(
          req.getUrn(),
          fromStruct(req.getProperties()),
          req.getPreview(),
        );
        return new m.CreateResponse()
          .setId(result.id)
          .setProperties(toStruct(this.p, result.properties));
      }),
      read: this.unary(async (req: pb.ReadRequest) => {
        this.resourceType(req.getType());
        const stored = req.getInputs() ? fromStruct(req.getInputs()) : undefined;
        const result = await this.resource.read(
          req.getId(),
          req.getUrn(),
          fromStruct(req.getProperties()),
          stored,
        );
        const response = new m.ReadResponse()
          .setId(result.id)
          .setProperties(toStruct(this.p, result.properties));
        if (result.inputs) response.setInputs(toStruct(this.p, result.inputs));
        return response;
      }),
      update: this.unary(async (req: pb.UpdateRequest) => {
        this.resourceType(req.getType());
        if (req.getPreview()) return new m.UpdateResponse().setProperties(req.getNews());
        const outs = await this.resource.update(
          req.getId(),
          fromStruct(req.getOlds()),
          fromStruct(req.getNews()),
        );
        return new m.UpdateResponse().setProperties(toStruct(this.p, outs));
      }),
      delete: this.unary(async (req: pb.DeleteRequest) => {
        this.resourceType(req.getType());
        await this.resource.delete(req.getId(), req.getUrn(), fromStruct(req.getProperties()));
        return new empty.Empty();
      }),
      invoke: this.unary(async (req: pb.InvokeRequest) => {
        const result = await invoke(this.lifecycle, req.getTok(), fromStruct(req.getArgs()));
        return new m.InvokeResponse()
          .setReturn(toStruct(this.p, result.outputs as Props))
          .setFailuresList(this.failures(result.failures));
      }),
      cancel: this.unary(() => {
        this.cancelled = true;
        return new empty.Empty();
      }),
    };
  }

  /** Throws for a resource type this plugin does not serve (an empty type is the URN's). */
  private resourceType(type: string): void {
    if (type !== "" && type !== RESOURCE_TOKEN) {
      throw new OctopusError(
        "CONFIGURATION",
        `${type} is not a resource of this package; it has ${RESOURCE_TOKEN}`,
      );
    }
  }

  private failures(problems: Array<{ property: string; reason: string }>): pb.CheckFailure[] {
    return problems.map((problem) =>
      new this.p.provider.CheckFailure().setProperty(problem.property).setReason(problem.reason),
    );
  }

  /** A unary handler: its answer, or its error as a gRPC status whose details are safe to show. */
  private unary<Req, Res>(handler: Handler<Req, Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      Promise.resolve()
        .then(() => handler(call.request))
        .then(
          (response) => callback(null, response),
          (error: unknown) => {
            const message = error instanceof Error ? error.message : String(error);
            const details = error instanceof OctopusError ? message : redact(message);
            callback({ code: this.p.grpc.status.UNKNOWN, details }, null);
          },
        );
    };
  }
}

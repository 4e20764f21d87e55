import type * as pulumi from "@pulumi/pulumi";
import { ApiKeyLifecycle } from "../core/lifecycle";
import { configSource, ConnectionSource, environmentSource } from "../core/connection/sources";
import { ApiKeyInputs, CONNECTION_SETTINGS, SETTING_NAMES } from "../core/fields";
import type { Notice } from "../core/overlap";
import type { StoredState } from "../core/state";
import { preloadHttp } from "../octopus/client";

/** The methods the dynamic provider host calls, besides `configure`. */
const LIFECYCLE = ["check", "diff", "create", "read", "update", "delete"] as const;

/** The settings a stack's config may hold, under keys shared with the `octopusdeploy` package. */
const STACK_CONFIG = SETTING_NAMES.filter((field) => "stackConfig" in CONNECTION_SETTINGS[field]);
const stackConfigKey = (field: (typeof SETTING_NAMES)[number]): string =>
  (CONNECTION_SETTINGS[field] as { stackConfig?: string }).stackConfig ?? field;

/**
 * The dynamic resource's front door: what the Pulumi engine's dynamic provider host calls, on the
 * object that the stub stored in state (./stub) attaches to. The lifecycle itself is the core's;
 * this adds the stack config (`octopusdeploy:address`, `:apiKey`, `:accessToken`) as the
 * connection's configuration source, before the environment.
 */
export class DynamicProvider implements pulumi.dynamic.ResourceProvider<ApiKeyInputs, StoredState> {
  private config: ConnectionSource = configSource([], () => undefined, String);
  /** The configuration and the environment (read at first use), one array while they hold. */
  private sources: readonly ConnectionSource[] | undefined;
  readonly lifecycle = new ApiKeyLifecycle(() => {
    this.sources ??= [this.config, environmentSource()];
    return this.sources;
  }, tell);

  /**
   * Called by the serialized stub (./stub) when the host configures it: puts this provider's
   * lifecycle methods on the host's provider object, then configures.
   */
  attach(target: object, req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    for (const method of LIFECYCLE) {
      Object.assign(target, { [method]: this[method].bind(this) });
    }
    return this.configure(req);
  }

  async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    this.config = configSource(
      STACK_CONFIG,
      (field) => req.config.get(stackConfigKey(field)),
      (field) => `stack config ${stackConfigKey(field)}`,
    );
    // A new configuration: the environment is read again, and what came from the old one goes.
    this.sources = undefined;
    this.lifecycle.reset();
    // The first request will need got: load it while the engine is still busy elsewhere.
    preloadHttp();
  }

  async check(
    olds: ApiKeyInputs,
    news: ApiKeyInputs,
  ): Promise<pulumi.dynamic.CheckResult<ApiKeyInputs>> {
    const { failures } = await this.lifecycle.check(olds, news);
    return { inputs: news, failures };
  }

  diff(id: string, olds: StoredState, news: ApiKeyInputs): Promise<pulumi.dynamic.DiffResult> {
    return this.lifecycle.diff(id, olds, news);
  }

  create(inputs: ApiKeyInputs): Promise<pulumi.dynamic.CreateResult<StoredState>> {
    return this.lifecycle.create(inputs);
  }

  read(id: string, props?: StoredState): Promise<pulumi.dynamic.ReadResult<StoredState>> {
    return this.lifecycle.read(id, props);
  }

  update(
    id: string,
    olds: StoredState,
    news: ApiKeyInputs,
  ): Promise<pulumi.dynamic.UpdateResult<StoredState>> {
    return this.lifecycle.update(id, olds, news);
  }

  delete(id: string, props: StoredState): Promise<void> {
    return this.lifecycle.delete(id, props);
  }
}

/**
 * A notice for the person running `pulumi` (a key a rotation left live). The dynamic provider
 * host has no connection to the engine (pulumi/pulumi#6065: `pulumi.log` in a dynamic provider
 * goes nowhere), but the engine shows the host's output as it runs, since Pulumi 3.146
 * (pulumi/pulumi#18253): one line on stderr, without the resource's name, which the host does
 * not get. The same facts are in the outputs (`retiringKeyId`, `retiringKeyExpires`).
 */
function tell(notice: Notice): void {
  process.stderr.write(`pulumi-octopus-apikey: ${notice.message.replace(/\s+/g, " ")}\n`);
}

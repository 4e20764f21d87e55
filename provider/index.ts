/**
 * pulumi-octopus-apikey: create, rotate and revoke Octopus Deploy API keys from a Pulumi program.
 * @packageDocumentation
 */
import type * as pulumi from "@pulumi/pulumi";
import { DynamicProvider } from "./dynamic/host";

export { OctopusApiKey } from "./dynamic/resource";
export type { OctopusApiKeyArgs, OctopusConnectionArgs } from "./dynamic/resource";
// Errors happen in the provider host, and the engine shows only their message: a Pulumi program
// never catches an OctopusError. The class and its codes stay exported (removing them would break
// importers) for code that runs the provider in its own process, such as tests.
export { OctopusError } from "./octopus/errors";
export type { OctopusErrorCode } from "./octopus/errors";

/**
 * The provider behind every {@link OctopusApiKey}, one per process. Stored resource state reaches it
 * by this name (`require("pulumi-octopus-apikey").provider`): it is part of the public
 * contract and never renamed. Typed by what the stored stub calls, so that the package's
 * declarations stay those of the resource and its errors.
 * @internal
 */
export const provider: {
  attach(target: object, req: pulumi.dynamic.ConfigureRequest): Promise<void>;
} = new DynamicProvider();

/**
 * Run as a source plugin, this package serves the resource plugin instead: `pulumi package add`
 * of this repository (or of an installed copy) finds its PulumiPlugin.yaml, and the Node.js
 * language host starts it with `@pulumi/pulumi/cmd/run-plugin`, which loads this main file with
 * the engine's arguments. Nothing else starts that launcher: a Pulumi program runs under
 * `cmd/run`, the dynamic provider host under `cmd/dynamic-provider`.
 */
if (/[\\/]cmd[\\/]run-plugin([\\/]|$)/.test(require.main?.filename ?? "")) {
  void import("./plugin/main.js").then((plugin) => plugin.run());
}

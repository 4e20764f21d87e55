/**
 * pulumi-octopus-apikey: create, rotate and revoke Octopus Deploy API keys from a Pulumi program.
 * @packageDocumentation
 */
import { ApiKeyProvider } from "./provider";

export { OctopusApiKey } from "./resource";
export type { OctopusApiKeyArgs, OctopusConnectionArgs } from "./resource";
export { OctopusError } from "./errors";
export type { OctopusErrorCode } from "./errors";

/**
 * The provider behind every {@link OctopusApiKey}, one per process. Stored resource state reaches it
 * by this name (`require("pulumi-octopus-apikey").provider`): it is part of the public
 * contract and never renamed.
 * @internal
 */
export const provider = new ApiKeyProvider();

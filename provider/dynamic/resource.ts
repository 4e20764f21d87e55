import * as pulumi from "@pulumi/pulumi";
import { INPUT_NAMES, INPUTS, OUTPUT_NAMES, OUTPUTS } from "../core/fields";
import type { OctopusApiKeyArgs, OctopusApiKeyOutputs } from "./args";
import { serializedProvider } from "./stub";

export type { OctopusApiKeyArgs, OctopusConnectionArgs } from "./args";

/** Outputs and stored inputs that hold secrets: the engine encrypts them in state. */
const SECRETS = [
  ...OUTPUT_NAMES.filter((name) => "secret" in OUTPUTS[name]),
  ...INPUT_NAMES.filter((name) => "secret" in INPUTS[name]),
];

/** This package's name, by which the provider text stored in state loads it (./stub). */
const PACKAGE_NAME = "pulumi-octopus-apikey";
let loadableChecked = false;

/**
 * Fails the program, before any resource is registered, when Pulumi's dynamic provider host could
 * not load this package: the host loads it by name from the project's folder (its working
 * directory), which a package manager that links only direct dependencies there (pnpm, for a
 * dependency of a dependency) or that has no node_modules at all (Yarn Plug'n'Play) does not
 * allow. The host's own error would only say "Cannot find module".
 */
function checkLoadableByName(): void {
  if (loadableChecked) return;
  const where = process.cwd();
  const pnp = (process.versions as { pnp?: string }).pnp !== undefined;
  let found = false;
  try {
    require.resolve(PACKAGE_NAME, { paths: [where] });
    found = true;
  } catch {
    // Reported below.
  }
  if (found && !pnp) {
    loadableChecked = true;
    return;
  }
  throw new pulumi.RunError(
    `${PACKAGE_NAME} cannot be loaded by name from ${where}, where Pulumi's dynamic provider host looks for it (the provider stored in state loads the package by name from the project's folder)${pnp ? "; Yarn Plug'n'Play has no node_modules folder for it to look in: set nodeLinker: node-modules in .yarnrc.yml" : ""}. Make it a direct dependency of this Pulumi project (npm install ${PACKAGE_NAME}, pnpm add ${PACKAGE_NAME}, yarn add ${PACKAGE_NAME}) so that it is installed at the top of its node_modules, then run again`,
  );
}

/**
 * An Octopus Deploy API key, managed by Pulumi: `pulumi up` creates it (its secret is the output
 * `apiKey`), a change of purpose, owner, expiry, access level, actor type or server replaces it
 * (new key first, then the old one is revoked), and `pulumi destroy` revokes it.
 *
 * ```ts
 * const key = new OctopusApiKey("deployer", { purpose: "CI deployments", username: "ci-bot" });
 * export const deployerKey = key.apiKey; // secret
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface below
export class OctopusApiKey extends pulumi.dynamic.Resource {
  constructor(name: string, args: OctopusApiKeyArgs, opts?: pulumi.CustomResourceOptions) {
    checkLoadableByName();
    const props: Record<string, unknown> = {};
    // Every output is registered (unknown until the provider sets it); outputs that are also
    // inputs (purpose, userId, username, accessLevel) keep the value given, if any.
    for (const output of OUTPUT_NAMES) props[output] = undefined;
    // Everything given goes to check, which names a property that is not an input.
    Object.assign(props, args);
    // A connection given here holds credentials: keep it secret in the stored inputs too.
    if (args.connection !== undefined) props.connection = pulumi.secret(args.connection);
    super(
      serializedProvider,
      name,
      props,
      pulumi.mergeOptions(opts, {
        additionalSecretOutputs: [
          ...new Set([...(opts?.additionalSecretOutputs ?? []), ...SECRETS]),
        ],
      }),
      "octopusdeploy",
      "ApiKey",
    );
  }
}

// The outputs, declared on the class without emitting a field (a field would reset what the
// engine sets): their types and documentation come from the declaration, through ./args.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface OctopusApiKey extends OctopusApiKeyOutputs {}

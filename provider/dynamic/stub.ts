/* eslint-disable @typescript-eslint/no-require-imports */
import type * as pulumi from "@pulumi/pulumi";

/**
 * The provider object Pulumi serializes into every resource's `__provider` state (≈700 bytes).
 * It never changes: its only method, `configure`, loads this package by its public name, in the
 * project where the engine runs the provider host, and lets it attach the real lifecycle methods
 * to the host's provider object. So the code that runs is always the installed version of the
 * package, state holds no credential and no path inside any package, and resources created by one
 * release are refreshed, replaced and deleted by the next, even if it adds methods.
 *
 * This relies on the dynamic provider host calling `configure` (Pulumi ≥ 3.139, this package's
 * oldest supported version) on the object it deserialized before any other method: it does so
 * once per provider text, before the call that needed it, and looks the other methods up after.
 *
 * `require` is left free on purpose: Pulumi's serializer keeps it as is, whereas a captured module
 * object would be written out as a deep `require("…/dist/…")` path.
 */
export const serializedProvider = {
  configure(this: object, req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    return require("pulumi-octopus-apikey").provider.attach(this, req);
  },
} as pulumi.dynamic.ResourceProvider;

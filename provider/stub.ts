/* eslint-disable @typescript-eslint/no-require-imports */
import type * as pulumi from "@pulumi/pulumi";

/**
 * The provider object Pulumi serializes into every resource's `__provider` state. It must stay
 * tiny and must never change shape: each method only loads this package by its public name, in the
 * project where the engine runs the provider host, and forwards the call. So the code that runs is
 * always the installed version of the package, state holds no credential and no path inside any
 * package, and resources created by one release are read and deleted by the next.
 *
 * `require` is left free on purpose: Pulumi's serializer keeps it as is, whereas a captured module
 * object would be written out as a deep `require("…/dist/…")` path.
 */
export const serializedProvider: pulumi.dynamic.ResourceProvider = {
  configure: (...a) => require("pulumi-octopus-apikey").provider.configure(...a),
  check: (...a) => require("pulumi-octopus-apikey").provider.check(...a),
  diff: (...a) => require("pulumi-octopus-apikey").provider.diff(...a),
  create: (...a) => require("pulumi-octopus-apikey").provider.create(...a),
  read: (...a) => require("pulumi-octopus-apikey").provider.read(...a),
  update: (...a) => require("pulumi-octopus-apikey").provider.update(...a),
  delete: (...a) => require("pulumi-octopus-apikey").provider.delete(...a),
};

/**
 * Where the recorded state of each release lives, and its shape: written by
 * scripts/make-fixture.ts when a release is cut, replayed by the upgrade tests.
 */
import * as path from "node:path";
import { repoRoot } from "./engine";

export const FIXTURE_DIR = path.join(repoRoot, "tests", "__fixtures__");

/** One stored resource, as the engine keeps it in a stack's state. */
export interface FixtureResource {
  name: string;
  urn: string;
  id: string;
  /** The inputs Check returned (stored as the resource's inputs), `__provider` included. */
  inputs: Record<string, unknown>;
  /** The stored outputs, `__provider` included. */
  outputs: Record<string, unknown>;
}

export interface Fixture {
  about: string;
  release: number;
  stateVersion: number;
  packageVersion: string;
  pulumiVersion: string;
  nodeVersion: string;
  generatedAt: string;
  /** The emulator the keys were made on; its keys are long gone. */
  serverUrl: string;
  resources: FixtureResource[];
}

export function fixturePaths(release: number): { outputs: string; providerText: string } {
  return {
    outputs: path.join(FIXTURE_DIR, `release-${release}-outputs.json`),
    providerText: path.join(FIXTURE_DIR, `release-${release}-provider.txt`),
  };
}

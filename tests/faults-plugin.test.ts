import { DEFAULT_PROFILE } from "../emulator/profiles";
import { faultMatrix } from "./support/fault-matrix";

// The whole fault matrix (see ./support/fault-matrix) through the resource plugin, on the
// default server profile: the doors share the transport and the lifecycle, so the profiles'
// create-step runs (faults-profiles.test.ts) are not repeated here.
describe(`plugin, on Octopus ${DEFAULT_PROFILE}`, () =>
  faultMatrix(DEFAULT_PROFILE, undefined, "plugin"));

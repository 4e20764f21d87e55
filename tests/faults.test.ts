import { DEFAULT_PROFILE } from "../emulator/profiles";
import { faultMatrix } from "./support/fault-matrix";

// The whole fault matrix (see ./support/fault-matrix) on the default server profile; the
// other profiles run its create step in faults-profiles.test.ts.
describe(`on Octopus ${DEFAULT_PROFILE}`, () => faultMatrix(DEFAULT_PROFILE));

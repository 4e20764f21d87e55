import { connectionUnitSuite } from "./support/connection-unit-suite";

// The connection as a unit (./support/connection-unit-suite) through the dynamic resource's
// front door, the real @pulumi/pulumi provider host; connection-unit-plugin.test.ts runs it
// through the plugin.

connectionUnitSuite("dynamic");

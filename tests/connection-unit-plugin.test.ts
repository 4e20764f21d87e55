import { connectionUnitSuite } from "./support/connection-unit-suite";

// The connection as a unit (./support/connection-unit-suite) through the resource plugin's
// front door.

connectionUnitSuite("plugin");

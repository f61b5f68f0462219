/**
 * Failover between two channels (failover.suite.ts), on every database engine.
 */
import { failoverSuite } from './failover.suite.js';

failoverSuite();

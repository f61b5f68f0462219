/**
 * Provider keys stay secret: channel API, logs, errors, the channel test endpoint (secrets.suite.ts), on
 * every database engine.
 */
import { secretsSuite } from './secrets.suite.js';

secretsSuite();

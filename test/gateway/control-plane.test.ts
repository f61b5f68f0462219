/**
 * The control plane around the data plane, one test process for three suites: provider keys stay
 * secret (channel API, logs, errors, the channel test endpoint), /v1/models lists what is active, and
 * the declarative config file.
 */
import { declarativeSuite } from './declarative.suite.js';
import { modelsSuite } from './models.suite.js';
import { secretsSuite } from './secrets.suite.js';

secretsSuite();
modelsSuite();
declarativeSuite();

/**
 * /v1/models lists what is active (models.suite.ts), on every database engine.
 */
import { modelsSuite } from './models.suite.js';

modelsSuite();

/**
 * Variations of OpenAI-compatible servers through the stream pass-through, as an OpenAI client sees them
 * (passthrough.suite.ts), on every database engine.
 */
import { passthroughSuite } from './passthrough.suite.js';

passthroughSuite();

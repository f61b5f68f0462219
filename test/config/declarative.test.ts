/**
 * The declarative config file (declarative.suite.ts), on every database engine.
 */
import { declarativeSuite } from './declarative.suite.js';

declarativeSuite();

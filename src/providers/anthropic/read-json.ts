/** Defensive JSON readers shared by every adapter. */
export * from '../shared/json.js';

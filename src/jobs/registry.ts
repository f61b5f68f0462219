import type { JobTypeDefinition, ScheduleDefinition } from './types.js';

/** Where the queue reports trouble (pino's logger fits). */
export interface JobLog {
  error(detail: Record<string, unknown>, message: string): void;
  info?(detail: Record<string, unknown>, message: string): void;
}

/** The job types and schedules the modules registered, shared by both queue implementations. */
export class JobRegistry {
  readonly #types = new Map<string, JobTypeDefinition>();
  readonly #schedules = new Map<string, ScheduleDefinition>();

  constructor(readonly log?: JobLog) {}

  define<P, R>(definition: JobTypeDefinition<P, R>): void {
    if (this.#types.has(definition.type)) throw new Error(`job type ${definition.type} is defined twice`);
    if (definition.concurrency !== undefined && !(definition.concurrency >= 1))
      throw new Error(`job type ${definition.type}: concurrency must be at least 1`);
    this.#types.set(definition.type, definition as JobTypeDefinition);
  }

  schedule(definition: ScheduleDefinition): void {
    if (!this.#types.has(definition.type))
      throw new Error(`schedule ${definition.name}: job type ${definition.type} is not defined`);
    if (this.#schedules.has(definition.name)) throw new Error(`schedule ${definition.name} is declared twice`);
    this.#schedules.set(definition.name, definition);
  }

  /** The definition of a type; an unknown type is a programming error. */
  type(type: string): JobTypeDefinition {
    const definition = this.#types.get(type);
    if (!definition) throw new Error(`unknown job type ${type}`);
    return definition;
  }

  has(type: string): boolean {
    return this.#types.has(type);
  }

  types(): JobTypeDefinition[] {
    return [...this.#types.values()];
  }

  schedules(): ScheduleDefinition[] {
    return [...this.#schedules.values()];
  }
}

import { type Static, Type } from '@sinclair/typebox';
import { EpochMs, Page } from '../http/schemas.js';
import { JOB_STATES } from './types.js';

export const JobStateSchema = Type.Union(
  JOB_STATES.map((s) => Type.Literal(s)),
  {
    description: 'queued (or delayed) · waiting (for parents) · running · succeeded · failed (dead letter) · cancelled',
  },
);

export const JobSchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  state: JobStateSchema,
  orgId: Type.Union([Type.String(), Type.Null()], { description: 'null: the instance’s own work' }),
  userId: Type.Union([Type.String(), Type.Null()]),
  payload: Type.Unknown(),
  result: Type.Unknown({ description: 'What the job returned (succeeded jobs)' }),
  error: Type.Union([Type.String(), Type.Null()], { description: 'The last attempt’s error' }),
  priority: Type.Integer(),
  attempts: Type.Integer({ description: 'Attempts started' }),
  maxAttempts: Type.Integer(),
  progress: Type.Integer({ minimum: 0, maximum: 100 }),
  progressMessage: Type.Union([Type.String(), Type.Null()]),
  parents: Type.Array(Type.String(), { description: 'Jobs that must succeed before this one starts' }),
  scheduleName: Type.Union([Type.String(), Type.Null()]),
  runAt: EpochMs,
  createdAt: EpochMs,
  startedAt: Type.Union([EpochMs, Type.Null()]),
  finishedAt: Type.Union([EpochMs, Type.Null()]),
});

export const JobPage = Page(JobSchema);

export const JobListQuery = Type.Object({
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  state: Type.Optional(JobStateSchema),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
});
export type JobListQuery = Static<typeof JobListQuery>;

export const ScheduleSchema = Type.Object({
  name: Type.String(),
  type: Type.String(),
  cron: Type.String({ description: 'Five-field cron expression, UTC' }),
  enabled: Type.Boolean(),
  nextRunAt: EpochMs,
  lastRunAt: Type.Union([EpochMs, Type.Null()]),
});

export const ScheduleList = Type.Object({ data: Type.Array(ScheduleSchema) });
export const ScheduleParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) });
export const SchedulePatch = Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false });

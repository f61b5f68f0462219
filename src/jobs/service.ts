import { ApiError, notFound } from '../core/errors.js';
import type { AuditService } from '../modules/audit/service.js';
import { actorOf, isAdmin, type Principal, userIdOf } from '../modules/auth/principal.js';
import type { JobQueue, JobRecord, JobState, ScheduleRecord } from './types.js';

/** Who is asking: their principal and, for the audit log, their address. */
export interface Caller {
  principal: Principal;
  ip: string;
}

/**
 * The jobs API's rules over the queue: an organization sees its own jobs (platform admins also the instance's
 * own, which belong to no organization); a user sees the jobs they started; admin actions are audited.
 */
export class JobsService {
  constructor(
    private readonly jobs: JobQueue,
    private readonly audit: AuditService,
  ) {}

  list(
    caller: Caller,
    query: { type?: string | undefined; state?: JobState | undefined; limit: number; offset: number },
    own: boolean,
  ): Promise<{ data: JobRecord[]; total: number }> {
    const { principal } = caller;
    if (own) {
      const userId = userIdOf(principal);
      if (!userId) return Promise.resolve({ data: [], total: 0 });
      return this.jobs.list({ ...query, scope: { orgId: principal.orgId, instanceWide: false }, userId });
    }
    return this.jobs.list({ ...query, scope: { orgId: principal.orgId, instanceWide: isAdmin(principal) } });
  }

  /** Start a job owned by the caller (an export): it shows on their Jobs page. */
  enqueueOwn(type: string, payload: unknown, owner: { orgId: string; userId: string }): Promise<JobRecord> {
    return this.jobs.enqueue(type, payload, owner);
  }

  /** A job the caller may see (404 otherwise: another organization's jobs do not exist for them). */
  async get(caller: Caller, id: string, own: boolean): Promise<JobRecord> {
    const job = await this.jobs.get(id);
    const { principal } = caller;
    const visible =
      job &&
      (own
        ? job.orgId === principal.orgId && job.userId !== null && job.userId === userIdOf(principal)
        : job.orgId === principal.orgId || (job.orgId === null && isAdmin(principal)));
    if (!visible) throw notFound('Job');
    return job;
  }

  async cancel(caller: Caller, id: string, own: boolean): Promise<JobRecord> {
    const job = await this.get(caller, id, own);
    if (job.state === 'succeeded' || job.state === 'failed' || job.state === 'cancelled')
      throw new ApiError('conflict', `Job ${id} has already finished (${job.state})`);
    const after = (await this.jobs.cancel(id)) ?? job;
    await this.record(caller, 'job.cancel', job, { state: job.state });
    if (after.state === 'cancelled')
      await this.jobs.definitionOf(job.type)?.onCancel?.({ job: after, wasRunning: job.state === 'running' });
    return after;
  }

  async retry(caller: Caller, id: string): Promise<JobRecord> {
    const job = await this.get(caller, id, false);
    if (job.state !== 'failed' && job.state !== 'cancelled')
      throw new ApiError('conflict', `Only a failed or cancelled job can be retried; job ${id} is ${job.state}`);
    const after = (await this.jobs.retry(id)) ?? job;
    await this.record(caller, 'job.retry', job, { state: job.state });
    return after;
  }

  async remove(caller: Caller, id: string): Promise<void> {
    const job = await this.get(caller, id, false);
    const outcome = await this.jobs.remove(id);
    if (outcome === 'running') throw new ApiError('conflict', `Job ${id} is running: cancel it first`);
    if (outcome === 'missing') throw notFound('Job');
    await this.record(caller, 'job.delete', job, { state: job.state });
  }

  schedules(): Promise<ScheduleRecord[]> {
    return this.jobs.schedules();
  }

  async setScheduleEnabled(caller: Caller, name: string, enabled: boolean): Promise<ScheduleRecord> {
    const schedule = await this.jobs.setScheduleEnabled(name, enabled);
    if (!schedule) throw notFound('Schedule');
    await this.audit.record({
      orgId: null,
      actor: actorOf(caller.principal),
      action: enabled ? 'job_schedule.enable' : 'job_schedule.disable',
      targetType: 'job_schedule',
      targetId: name,
      ip: caller.ip,
    });
    return schedule;
  }

  private record(caller: Caller, action: string, job: JobRecord, detail: Record<string, unknown>): Promise<void> {
    return this.audit.record({
      orgId: job.orgId,
      actor: actorOf(caller.principal),
      action,
      targetType: 'job',
      targetId: job.id,
      ip: caller.ip,
      detail: { type: job.type, ...detail },
    });
  }
}

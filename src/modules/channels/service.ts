import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import type { SecretBox } from '../../core/secrets.js';
import type { ChannelKeysTable, ChannelStatus, ChannelsTable } from '../../infra/db/schema.js';
import { getProvider, PROVIDER_IDS } from '../../providers/registry.js';
import type { UpstreamBalance } from '../../providers/types.js';
import { type ChannelOptions, parseChannelOptions } from './options.js';
import type { ChannelsRepository } from './repository.js';

/** A channel as the API shows it: provider keys appear only as hints. */
export interface ChannelResponse {
  id: string;
  name: string;
  type: string;
  baseUrl: string | null;
  status: ChannelStatus;
  disabledReason: string | null;
  options: ChannelOptions;
  groups: string[];
  tags: string[];
  /** The upstream account's balance as last fetched (never the key). */
  balance: (UpstreamBalance & { fetchedAt: number }) | null;
  priority: number;
  weight: number;
  keys: Array<{ id: string; hint: string; status: 'active' | 'disabled' }>;
  createdAt: number;
  updatedAt: number;
}

export interface ChannelInput {
  name: string;
  type: string;
  baseUrl?: string | null | undefined;
  /** Provider keys (write-only). */
  keys?: string[] | undefined;
  options?: ChannelOptions | undefined;
  groups?: string[] | undefined;
  tags?: string[] | undefined;
  priority?: number | undefined;
  weight?: number | undefined;
  enabled?: boolean | undefined;
}

export type ChannelPatch = Partial<ChannelInput>;

/** Decrypted channel, for the gateway's in-memory catalog only. */
export interface ChannelWithSecrets {
  row: ChannelsTable;
  options: ChannelOptions;
  groups: string[];
  tags: string[];
  keys: Array<{ id: string; secret: string }>;
}

export const DEFAULT_CHANNEL_GROUP = 'default';

/** The groups a channel is in (stored as a JSON array; `default` when it names none). */
export function parseChannelGroups(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json);
    if (Array.isArray(value)) {
      const groups = value.filter((v): v is string => typeof v === 'string');
      if (groups.length > 0) return groups;
    }
  } catch {
    // A hand-edited row: fall back to the default group rather than failing the whole catalog.
  }
  return [DEFAULT_CHANNEL_GROUP];
}

const storeGroups = (groups: string[]) => JSON.stringify([...new Set(groups)]);

/** A channel's tags (stored as a JSON array; none when unreadable). */
export function parseChannelTags(json: string | null | undefined): string[] {
  try {
    const value: unknown = JSON.parse(json ?? '[]');
    if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  } catch {
    // A hand-edited row: no tags rather than a failing catalog.
  }
  return [];
}

const storeTags = (tags: string[]) => JSON.stringify([...new Set(tags)].sort());

function parseBalance(row: ChannelsTable): ChannelResponse['balance'] {
  if (!row.balance || row.balance_at === null) return null;
  try {
    const value = JSON.parse(row.balance) as UpstreamBalance;
    return { ...value, fetchedAt: row.balance_at };
  } catch {
    return null;
  }
}

/** What a bulk action does to each channel. */
export type BulkAction = 'enable' | 'disable' | 'delete' | 'tag' | 'untag';

export function keyHint(secret: string): string {
  return secret.length <= 8 ? '…' : `${secret.slice(0, 3)}…${secret.slice(-4)}`;
}

/** Upstream connections: validation, encryption of provider keys, and change notification. */
export class ChannelsService {
  readonly #listeners: Array<() => Promise<void> | void> = [];

  constructor(
    private readonly repo: ChannelsRepository,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly newId: IdGenerator,
  ) {}

  /** Called after every change (the catalog reloads). */
  onChange(listener: () => Promise<void> | void): void {
    this.#listeners.push(listener);
  }

  async list(): Promise<ChannelResponse[]> {
    const [rows, keys] = await Promise.all([this.repo.listAll(), this.repo.listKeys()]);
    return rows.map((row) =>
      this.toResponse(
        row,
        keys.filter((k) => k.channel_id === row.id),
      ),
    );
  }

  async get(id: string): Promise<ChannelResponse> {
    const row = await this.repo.findById(id);
    if (!row) throw notFound('Channel');
    return this.toResponse(row, await this.repo.listKeys(id));
  }

  /** Every group some channel is in, sorted (`default` always). */
  async groupNames(): Promise<string[]> {
    const names = new Set<string>([DEFAULT_CHANNEL_GROUP]);
    for (const row of await this.repo.listAll()) for (const group of parseChannelGroups(row.groups)) names.add(group);
    return [...names].sort();
  }

  findByName(name: string): Promise<ChannelsTable | undefined> {
    return this.repo.findByName(name);
  }

  async create(input: ChannelInput): Promise<ChannelResponse> {
    this.validate(input);
    if (await this.repo.findByName(input.name))
      throw new ApiError('conflict', `A channel named ${input.name} already exists`, { param: 'name' });
    const now = this.clock.now();
    const row: ChannelsTable = {
      id: this.newId('chn'),
      name: input.name,
      type: input.type,
      base_url: normaliseBaseUrl(input.baseUrl),
      status: input.enabled === false ? 'disabled' : 'active',
      disabled_reason: input.enabled === false ? 'disabled by an admin' : null,
      options: JSON.stringify(input.options ?? {}),
      groups: storeGroups(input.groups ?? [DEFAULT_CHANNEL_GROUP]),
      tags: storeTags(input.tags ?? []),
      balance: null,
      balance_at: null,
      priority: input.priority ?? 0,
      weight: input.weight ?? 1,
      created_at: now,
      updated_at: now,
    };
    const keys = this.sealKeys(row.id, input.keys ?? [], now);
    await this.repo.insert(row, keys);
    await this.emit();
    return this.toResponse(row, keys);
  }

  async update(id: string, patch: ChannelPatch): Promise<ChannelResponse> {
    const current = await this.repo.findById(id);
    if (!current) throw notFound('Channel');
    const merged: ChannelInput = {
      name: patch.name ?? current.name,
      type: patch.type ?? current.type,
      baseUrl: patch.baseUrl === undefined ? current.base_url : patch.baseUrl,
      options: patch.options ?? parseChannelOptions(current.options),
      keys: patch.keys,
    };
    this.validate(merged, patch.keys !== undefined);
    if (patch.name && patch.name !== current.name && (await this.repo.findByName(patch.name))) {
      throw new ApiError('conflict', `A channel named ${patch.name} already exists`, { param: 'name' });
    }
    const now = this.clock.now();
    const update: Partial<ChannelsTable> = { updated_at: now };
    if (patch.name !== undefined) update.name = patch.name;
    if (patch.type !== undefined) update.type = patch.type;
    if (patch.baseUrl !== undefined) update.base_url = normaliseBaseUrl(patch.baseUrl);
    if (patch.options !== undefined) update.options = JSON.stringify(patch.options);
    if (patch.groups !== undefined) update.groups = storeGroups(patch.groups);
    if (patch.tags !== undefined) update.tags = storeTags(patch.tags);
    if (patch.priority !== undefined) update.priority = patch.priority;
    if (patch.weight !== undefined) update.weight = patch.weight;
    if (patch.enabled !== undefined) {
      update.status = patch.enabled ? 'active' : 'disabled';
      update.disabled_reason = patch.enabled ? null : 'disabled by an admin';
    }
    const keys = patch.keys ? this.sealKeys(id, patch.keys, now) : undefined;
    await this.repo.update(id, update, keys);
    await this.emit();
    return this.get(id);
  }

  /** Disable a channel with a reason (used by the router when an upstream rejects its key). */
  async disable(id: string, reason: string): Promise<void> {
    await this.repo.update(id, { status: 'disabled', disabled_reason: reason, updated_at: this.clock.now() });
    await this.emit();
  }

  async delete(id: string): Promise<void> {
    if (!(await this.repo.findById(id))) throw notFound('Channel');
    await this.repo.delete(id);
    await this.emit();
  }

  /**
   * A new channel with the settings and the same sealed keys as `id` (re-encrypting is not needed: the keys
   * never leave their envelopes), named "<name> (copy)" (or "(copy 2)", …), disabled unless `enabled`.
   */
  async copy(
    id: string,
    options: { name?: string | undefined; enabled?: boolean | undefined } = {},
  ): Promise<ChannelResponse> {
    const source = await this.repo.findById(id);
    if (!source) throw notFound('Channel');
    let name = options.name;
    if (name !== undefined) {
      if (await this.repo.findByName(name))
        throw new ApiError('conflict', `A channel named ${name} already exists`, { param: 'name' });
    } else {
      const base = `${source.name.slice(0, 90)} (copy`;
      name = `${base})`;
      for (let n = 2; await this.repo.findByName(name); n++) name = `${base} ${n})`;
    }
    const now = this.clock.now();
    const enabled = options.enabled === true;
    const row: ChannelsTable = {
      ...source,
      id: this.newId('chn'),
      name,
      status: enabled ? 'active' : 'disabled',
      disabled_reason: enabled ? null : 'disabled by an admin',
      balance: null,
      balance_at: null,
      created_at: now,
      updated_at: now,
    };
    const keys = (await this.repo.listKeys(id)).map((k) => ({
      ...k,
      id: this.newId('ckey'),
      channel_id: row.id,
      created_at: now,
    }));
    await this.repo.insert(row, keys);
    await this.emit();
    return this.toResponse(row, keys);
  }

  /**
   * One action on several channels in one transaction; unknown ids are refused before anything changes.
   * Returns the ids acted on.
   */
  async bulk(ids: string[], action: BulkAction, tags: string[] = []): Promise<string[]> {
    const unique = [...new Set(ids)];
    const rows = await this.repo.findByIds(unique);
    const missing = unique.filter((id) => !rows.some((r) => r.id === id));
    if (missing.length > 0)
      throw new ApiError('validation_failed', `ids: unknown channel ${missing.join(', ')}`, { param: 'ids' });
    if ((action === 'tag' || action === 'untag') && tags.length === 0)
      throw new ApiError('validation_failed', `tags: name at least one tag to ${action}`, { param: 'tags' });
    const now = this.clock.now();
    await this.repo.bulk(
      unique,
      action === 'delete'
        ? 'delete'
        : rows.map((row) => {
            const patch: Partial<ChannelsTable> = { updated_at: now };
            if (action === 'enable') Object.assign(patch, { status: 'active', disabled_reason: null });
            if (action === 'disable')
              Object.assign(patch, { status: 'disabled', disabled_reason: 'disabled by an admin' });
            if (action === 'tag') patch.tags = storeTags([...parseChannelTags(row.tags), ...tags]);
            if (action === 'untag') patch.tags = storeTags(parseChannelTags(row.tags).filter((t) => !tags.includes(t)));
            return { id: row.id, patch };
          }),
    );
    await this.emit();
    return unique;
  }

  /** Every tag some channel has, sorted. */
  async tagNames(): Promise<string[]> {
    const names = new Set<string>();
    for (const row of await this.repo.listAll()) for (const tag of parseChannelTags(row.tags)) names.add(tag);
    return [...names].sort();
  }

  /** Store the balance just fetched for a channel (no catalog change: the data plane does not read it). */
  async saveBalance(id: string, balance: UpstreamBalance): Promise<ChannelResponse> {
    await this.repo.update(id, { balance: JSON.stringify(balance), balance_at: this.clock.now() });
    return this.get(id);
  }

  /** Every channel with its decrypted keys (for the in-memory catalog). */
  async loadWithSecrets(): Promise<ChannelWithSecrets[]> {
    const [rows, keys] = await Promise.all([this.repo.listAll(), this.repo.listKeys()]);
    return rows.map((row) => ({
      row,
      options: parseChannelOptions(row.options),
      groups: parseChannelGroups(row.groups),
      tags: parseChannelTags(row.tags),
      keys: keys
        .filter((k) => k.channel_id === row.id && k.status === 'active')
        .map((k) => ({ id: k.id, secret: this.box.decrypt(k.secret_enc) })),
    }));
  }

  private validate(input: ChannelInput, keysGiven = true): void {
    const provider = getProvider(input.type);
    if (!provider) {
      throw new ApiError('validation_failed', `type must be one of ${PROVIDER_IDS.join(', ')}`, { param: 'type' });
    }
    const baseUrl = input.baseUrl ?? provider.baseUrl.default;
    if (provider.baseUrl.mode !== 'none') {
      if (!baseUrl)
        throw new ApiError('validation_failed', `baseUrl is required for ${input.type} channels`, { param: 'baseUrl' });
      if (!/^https?:\/\/[^\s]+$/.test(baseUrl))
        throw new ApiError('validation_failed', 'baseUrl must be an http(s) URL', { param: 'baseUrl' });
    }
    const needsKey = provider.key === 'required';
    if (keysGiven && needsKey && (!input.keys || input.keys.length === 0)) {
      throw new ApiError('validation_failed', `keys: a ${input.type} channel needs at least one provider key`, {
        param: 'keys',
      });
    }
    if (input.keys?.some((k) => k.trim() === ''))
      throw new ApiError('validation_failed', 'keys must not contain empty strings', { param: 'keys' });
  }

  private sealKeys(channelId: string, secrets: string[], now: number): ChannelKeysTable[] {
    return secrets.map((secret) => ({
      id: this.newId('ckey'),
      channel_id: channelId,
      secret_enc: this.box.encrypt(secret.trim()),
      hint: keyHint(secret.trim()),
      status: 'active',
      created_at: now,
    }));
  }

  private toResponse(row: ChannelsTable, keys: ChannelKeysTable[]): ChannelResponse {
    return {
      id: row.id,
      name: row.name,
      type: row.type,
      baseUrl: row.base_url,
      status: row.status,
      disabledReason: row.disabled_reason,
      options: parseChannelOptions(row.options),
      groups: parseChannelGroups(row.groups),
      tags: parseChannelTags(row.tags),
      balance: parseBalance(row),
      priority: row.priority,
      weight: row.weight,
      keys: keys.map((k) => ({ id: k.id, hint: k.hint, status: k.status })),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  private async emit(): Promise<void> {
    for (const listener of this.#listeners) await listener();
  }
}

function normaliseBaseUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  return url.trim().replace(/\/+$/, '');
}

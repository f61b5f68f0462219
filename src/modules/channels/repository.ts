import type { Kysely } from 'kysely';
import type { ChannelKeysTable, ChannelsTable, Database } from '../../infra/db/schema.js';

/** Data access for channels and their key pools. */
export class ChannelsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  listAll(): Promise<ChannelsTable[]> {
    return this.db
      .selectFrom('channels')
      .selectAll()
      .orderBy('priority', 'desc')
      .orderBy('created_at', 'asc')
      .execute();
  }

  findById(id: string): Promise<ChannelsTable | undefined> {
    return this.db.selectFrom('channels').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByIds(ids: string[]): Promise<ChannelsTable[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('channels').selectAll().where('id', 'in', ids).execute();
  }

  findByName(name: string): Promise<ChannelsTable | undefined> {
    return this.db.selectFrom('channels').selectAll().where('name', '=', name).executeTakeFirst();
  }

  listKeys(channelId?: string): Promise<ChannelKeysTable[]> {
    let q = this.db.selectFrom('channel_keys').selectAll();
    if (channelId) q = q.where('channel_id', '=', channelId);
    return q.orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
  }

  /** Insert a channel with its keys in one transaction. */
  async insert(channel: ChannelsTable, keys: ChannelKeysTable[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('channels').values(channel).execute();
      if (keys.length > 0) await trx.insertInto('channel_keys').values(keys).execute();
    });
  }

  /** Update a channel; when `keys` is given the key pool is replaced in the same transaction. */
  async update(
    id: string,
    patch: Partial<Omit<ChannelsTable, 'id' | 'created_at'>>,
    keys?: ChannelKeysTable[],
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('channels').set(patch).where('id', '=', id).execute();
      if (keys) {
        await trx.deleteFrom('channel_keys').where('channel_id', '=', id).execute();
        if (keys.length > 0) await trx.insertInto('channel_keys').values(keys).execute();
      }
    });
  }

  /** Patch several channels, or delete them with their routes and keys, in one transaction. */
  async bulk(
    ids: string[],
    change: 'delete' | Array<{ id: string; patch: Partial<Omit<ChannelsTable, 'id' | 'created_at'>> }>,
  ): Promise<void> {
    if (ids.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      if (change === 'delete') {
        await trx.deleteFrom('model_routes').where('channel_id', 'in', ids).execute();
        await trx.deleteFrom('channel_keys').where('channel_id', 'in', ids).execute();
        await trx.deleteFrom('channels').where('id', 'in', ids).execute();
        return;
      }
      for (const { id, patch } of change) await trx.updateTable('channels').set(patch).where('id', '=', id).execute();
    });
  }

  async delete(id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('model_routes').where('channel_id', '=', id).execute();
      await trx.deleteFrom('channel_keys').where('channel_id', '=', id).execute();
      await trx.deleteFrom('channels').where('id', '=', id).execute();
    });
  }
}

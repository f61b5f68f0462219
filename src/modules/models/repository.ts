import type { Kysely } from 'kysely';
import type { Database, ModelRoutesTable, ModelsTable, ModelTagRoutesTable } from '../../infra/db/schema.js';

/** Data access for models and their routes to channels. */
export class ModelsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  listAll(): Promise<ModelsTable[]> {
    return this.db.selectFrom('models').selectAll().orderBy('name', 'asc').execute();
  }

  listRoutes(modelId?: string): Promise<ModelRoutesTable[]> {
    let q = this.db.selectFrom('model_routes').selectAll();
    if (modelId) q = q.where('model_id', '=', modelId);
    return q.orderBy('priority', 'desc').orderBy('created_at', 'asc').execute();
  }

  listTagRoutes(modelId?: string): Promise<ModelTagRoutesTable[]> {
    let q = this.db.selectFrom('model_tag_routes').selectAll();
    if (modelId) q = q.where('model_id', '=', modelId);
    return q.orderBy('priority', 'desc').orderBy('created_at', 'asc').execute();
  }

  findById(id: string): Promise<ModelsTable | undefined> {
    return this.db.selectFrom('models').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByName(name: string): Promise<ModelsTable | undefined> {
    return this.db.selectFrom('models').selectAll().where('name', '=', name).executeTakeFirst();
  }

  /** Which of these channel ids exist (routes may only point at channels). */
  async existingChannelIds(ids: string[]): Promise<string[]> {
    const rows = await this.db.selectFrom('channels').select('id').where('id', 'in', ids).execute();
    return rows.map((r) => r.id);
  }

  /** Insert or update a model; when `routes` is given they replace the model's routes, in one transaction. */
  async save(
    model: ModelsTable,
    routes: ModelRoutesTable[] | undefined,
    isNew: boolean,
    tagRoutes?: ModelTagRoutesTable[],
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (isNew) await trx.insertInto('models').values(model).execute();
      else {
        const { id, created_at: _created, ...rest } = model;
        await trx.updateTable('models').set(rest).where('id', '=', id).execute();
      }
      if (routes) {
        await trx.deleteFrom('model_routes').where('model_id', '=', model.id).execute();
        if (routes.length > 0) await trx.insertInto('model_routes').values(routes).execute();
      }
      if (tagRoutes) {
        await trx.deleteFrom('model_tag_routes').where('model_id', '=', model.id).execute();
        if (tagRoutes.length > 0) await trx.insertInto('model_tag_routes').values(tagRoutes).execute();
      }
    });
  }

  async delete(id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('model_routes').where('model_id', '=', id).execute();
      await trx.deleteFrom('model_tag_routes').where('model_id', '=', id).execute();
      await trx.deleteFrom('models').where('id', '=', id).execute();
    });
  }
}

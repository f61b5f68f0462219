/**
 * The OpenAI Files API on /v1: POST /v1/files (multipart: `file`, `purpose`), GET /v1/files,
 * GET /v1/files/{id}, GET /v1/files/{id}/content, DELETE /v1/files/{id}. Authenticated by a virtual key
 * like every /v1 route; multipart is parsed only in this plugin's scope (the /v1 JSON parser is untouched).
 */
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../core/errors.js';
import type { Caller, Gateway } from '../../gateway/index.js';
import type { FileOwner } from './repository.js';
import { type FilesService, toFileObject, UPLOAD_PURPOSES } from './service.js';

/** The caller as a file owner: a virtual key's organization and user (the master key owns no files). */
export async function fileOwnerOf(
  gateway: Gateway,
  request: FastifyRequest,
): Promise<FileOwner & { keyId: string; caller: Caller }> {
  const caller = await gateway.authenticate(request);
  if (caller.orgId === null || caller.keyId === null)
    throw new ApiError('forbidden', 'Files and batches belong to an organization: use a virtual API key');
  return { orgId: caller.orgId, userId: caller.userId, keyId: caller.keyId, caller };
}

type ById = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>;

/** Reads a page query's `limit` (1–`max`, default `fallback`). */
export function pageLimit(value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    throw new ApiError('validation_failed', `Invalid 'limit': expected an integer from 1 to ${max}.`, {
      param: 'limit',
    });
  return limit;
}

export async function registerFilesRoutes(
  v1: FastifyInstance,
  deps: { gateway: Gateway; files: FilesService; fileMaxBytes: number },
): Promise<void> {
  const { gateway, files } = deps;
  await v1.register(async (scope) => {
    await scope.register(multipart, {
      limits: { fileSize: deps.fileMaxBytes, files: 1, fields: 10, fieldSize: 1024, parts: 12 },
    });

    scope.post('/v1/files', { schema: { hide: true } }, async (request) => {
      const owner = await fileOwnerOf(gateway, request);
      if (!request.isMultipart())
        throw new ApiError(
          'unsupported_media_type',
          'Upload the file as multipart/form-data (fields file and purpose)',
        );
      let purpose: string | undefined;
      let stored: { id: string; filename: string; bytes: number; lines: number } | undefined;
      try {
        for await (const part of request.parts()) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file' || stored) {
              part.file.resume();
              throw new ApiError('bad_request', `Unexpected file field '${part.fieldname}'`, { param: part.fieldname });
            }
            const id = files.newFileId();
            const filename = part.filename || 'upload.jsonl';
            const { bytes, lines } = await files.storeUpload(id, filename, part.file);
            stored = { id, filename, bytes, lines };
          } else if (part.fieldname === 'purpose') purpose = String(part.value);
        }
      } catch (error) {
        if (stored) await files.discardUpload(stored.id);
        if (error instanceof ApiError) throw error;
        const code = (error as { code?: string }).code;
        if (code === 'FST_REQ_FILE_TOO_LARGE')
          throw new ApiError('payload_too_large', `The file is larger than ${deps.fileMaxBytes} bytes`, {
            param: 'file',
          });
        if (typeof code === 'string' && code.startsWith('FST_'))
          throw new ApiError('bad_request', `Invalid multipart body: ${(error as Error).message}`);
        throw error;
      }
      if (!stored) throw new ApiError('validation_failed', "Missing required parameter: 'file'", { param: 'file' });
      if (purpose === undefined || !(UPLOAD_PURPOSES as readonly string[]).includes(purpose)) {
        await files.discardUpload(stored.id);
        throw new ApiError(
          'validation_failed',
          purpose === undefined
            ? "Missing required parameter: 'purpose'"
            : `Invalid purpose '${purpose}': this hub accepts ${UPLOAD_PURPOSES.join(', ')}`,
          { param: 'purpose' },
        );
      }
      return files.recordUpload(owner, { ...stored, purpose });
    });

    scope.get('/v1/files', { schema: { hide: true } }, async (request: ById) => {
      const owner = await fileOwnerOf(gateway, request);
      const { purpose, after, order } = request.query;
      if (order !== undefined && order !== 'asc' && order !== 'desc')
        throw new ApiError('validation_failed', "Invalid 'order': expected asc or desc", { param: 'order' });
      return files.list(owner, {
        purpose,
        after,
        order: order ?? 'desc',
        limit: pageLimit(request.query.limit, 10_000, 10_000),
      });
    });

    scope.get('/v1/files/:id', { schema: { hide: true } }, async (request: ById) => {
      const owner = await fileOwnerOf(gateway, request);
      return toFileObject(await files.get(owner, request.params.id));
    });

    scope.get('/v1/files/:id/content', { schema: { hide: true } }, async (request: ById, reply) => {
      const owner = await fileOwnerOf(gateway, request);
      const { row, stream } = await files.content(owner, request.params.id);
      reply.header('content-type', 'application/octet-stream');
      reply.header('content-length', String(row.bytes));
      return reply.send(stream);
    });

    scope.delete('/v1/files/:id', { schema: { hide: true } }, async (request: ById) => {
      const owner = await fileOwnerOf(gateway, request);
      return files.delete(owner, request.params.id);
    });
  });
}

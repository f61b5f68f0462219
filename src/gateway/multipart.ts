/**
 * Multipart uploads of the /v1 media routes (images/edits, audio transcriptions and translations), parsed
 * by @fastify/multipart in the encapsulated scope of those routes only, with size limits. The form is read
 * into memory (bounded by the limits) rather than streamed through: a failover attempt must be able to send
 * it again, and the upstream's own limit (OpenAI: 25 MB) is of the same order. The parsed form is the
 * request's body; for the request log it serialises as metadata (names, types, sizes), never file bytes.
 */
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../core/errors.js';
import type { MultipartForm, UploadedFile } from '../providers/types.js';

export interface UploadLimits {
  /** Largest file, bytes. */
  fileBytes: number;
}

/** Most files in one form (OpenAI's image edits take up to 16 images and a mask). */
const MAX_FILES = 17;
const MAX_FIELDS = 50;
/** Largest text field (an edit's prompt is at most 32,000 characters). */
const MAX_FIELD_BYTES = 128 * 1024;

/** A parsed multipart body: fields and files, logged as metadata only. */
export class ParsedForm implements MultipartForm {
  constructor(
    readonly fields: ReadonlyArray<readonly [string, string]>,
    readonly files: readonly UploadedFile[],
  ) {}

  /** The last value of a text field (`name` or `name[]`). */
  field(name: string): string | undefined {
    let value: string | undefined;
    for (const [key, v] of this.fields) if (key === name) value = v;
    return value;
  }

  /** What the request log keeps of the form: its fields, and each file's name, type and size. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of this.fields) out[key] = value;
    out.files = this.files.map((f) => ({
      field: f.field,
      filename: f.filename,
      type: f.contentType,
      bytes: f.data.length,
    }));
    return out;
  }
}

/** The request's multipart form, or the client's 4xx naming what is wrong with it. */
async function readForm(request: FastifyRequest, limits: UploadLimits): Promise<ParsedForm> {
  if (!request.isMultipart())
    throw new ApiError('unsupported_media_type', 'Send the body as multipart/form-data', { status: 415 });
  const fields: Array<[string, string]> = [];
  const files: UploadedFile[] = [];
  try {
    for await (const part of request.parts({
      limits: { fileSize: limits.fileBytes, files: MAX_FILES, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES },
    })) {
      if (part.type === 'file') {
        const data = await part.toBuffer();
        files.push({ field: part.fieldname, filename: part.filename, contentType: part.mimetype, data });
      } else {
        if (part.valueTruncated)
          throw new ApiError('payload_too_large', `The field '${part.fieldname}' is too long`, {
            param: part.fieldname,
          });
        fields.push([part.fieldname, String(part.value)]);
      }
    }
  } catch (error) {
    throw formError(error, limits);
  }
  return new ParsedForm(fields, files);
}

/** A parser's failure as the client's error: too large is 413, anything else a malformed form (400). */
function formError(error: unknown, limits: UploadLimits): ApiError {
  if (error instanceof ApiError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'FST_REQ_FILE_TOO_LARGE')
    return new ApiError(
      'payload_too_large',
      `A file is larger than the upload limit of ${Math.floor(limits.fileBytes / 1024 / 1024)} MiB`,
      { param: 'file' },
    );
  if (code === 'FST_FILES_LIMIT' || code === 'FST_FIELDS_LIMIT' || code === 'FST_PARTS_LIMIT')
    return new ApiError('payload_too_large', 'The form has too many parts');
  const detail = error instanceof Error ? error.message : String(error);
  return new ApiError('bad_request', `The multipart/form-data body is malformed (${detail})`);
}

/**
 * Register the multipart routes of `register` in their own scope: @fastify/multipart is added there only,
 * and each request's form is parsed (with `limits`) before the route runs.
 */
export function withMultipart(
  app: FastifyInstance,
  limits: UploadLimits,
  register: (scope: FastifyInstance) => void,
): void {
  void app.register(async (scope) => {
    await scope.register(multipart, {
      limits: { fileSize: limits.fileBytes, files: MAX_FILES, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES },
    });
    scope.addHook('preValidation', async (request) => {
      request.body = await readForm(request, limits);
    });
    register(scope);
  });
}

/**
 * The /v1 routes: each endpoint of ./endpoints/ on its path, plus the model list. A route only names its
 * endpoint; the stages are the gateway's.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../core/errors.js';
import { speech, transcriptions, translations } from './endpoints/audio.js';
import { chatCompletions } from './endpoints/chat-completions.js';
import { completions } from './endpoints/completions.js';
import { countTokens } from './endpoints/count-tokens.js';
import { embeddings } from './endpoints/embeddings.js';
import type { Endpoint } from './endpoints/endpoint.js';
import { geminiEndpointFor, toGeminiModel } from './endpoints/gemini.js';
import { imageEdits, imageGenerations } from './endpoints/images.js';
import { messages } from './endpoints/messages.js';
import { moderations } from './endpoints/moderations.js';
import { rerank } from './endpoints/rerank.js';
import type { Gateway } from './gateway.js';
import { withMultipart } from './multipart.js';

/** Options of the /v1 routes. */
export interface V1RouteOptions {
  /** Largest file of a multipart upload (image edits, audio), bytes. */
  uploadLimitBytes: number;
}

/** POST /v1/chat/completions, /v1/embeddings, /v1/messages; GET /v1/models, /v1/models/{id}. */
export function registerV1Routes(
  app: FastifyInstance,
  gateway: Gateway,
  options: V1RouteOptions = { uploadLimitBytes: 25 * 1024 * 1024 },
): void {
  // One line per endpoint (a new /v1 surface: its file in ./endpoints/ and a line here). No body schema:
  // each endpoint checks its body without coercion (and without Ajv's cost).
  app.post('/v1/chat/completions', { schema: { hide: true } }, (q: FastifyRequest, r: FastifyReply) =>
    gateway.serve(chatCompletions, q, r, null),
  );
  app.post('/v1/embeddings', { schema: { hide: true } }, (q: FastifyRequest, r: FastifyReply) =>
    gateway.serve(embeddings, q, r, null),
  );
  app.post('/v1/messages', { schema: { hide: true } }, (q: FastifyRequest, r: FastifyReply) =>
    gateway.serve(messages, q, r, null),
  );
  // More surfaces (issue 19): count_tokens, moderations, legacy completions, rerank.
  app.post('/v1/messages/count_tokens', { schema: { hide: true } }, (q: FastifyRequest, r: FastifyReply) =>
    gateway.serve(countTokens, q, r, null),
  );
  app.post('/v1/moderations', { schema: { hide: true } }, (q: FastifyRequest, r: FastifyReply) =>
    gateway.serve(moderations, q, r, null),
  );
  app.post('/v1/completions', { schema: { hide: true } }, (q: FastifyRequest, r: FastifyReply) =>
    gateway.serve(completions, q, r, null),
  );
  app.post('/v1/rerank', { schema: { hide: true } }, (q: FastifyRequest, r: FastifyReply) =>
    gateway.serve(rerank, q, r, null),
  );
  // Images and audio (issue 19): JSON bodies here, multipart uploads in their own scope.
  app.post('/v1/images/generations', { schema: { hide: true } }, (q: FastifyRequest, r: FastifyReply) =>
    gateway.serve(imageGenerations, q, r, null),
  );
  app.post('/v1/audio/speech', { schema: { hide: true } }, (q: FastifyRequest, r: FastifyReply) =>
    gateway.serve(speech, q, r, null),
  );
  withMultipart(app, { fileBytes: options.uploadLimitBytes }, (uploads) => {
    uploads.post('/v1/images/edits', { schema: { hide: true } }, (q: FastifyRequest, r: FastifyReply) =>
      gateway.serve(imageEdits, q, r, null),
    );
    uploads.post('/v1/audio/transcriptions', { schema: { hide: true } }, (q: FastifyRequest, r: FastifyReply) =>
      gateway.serve(transcriptions, q, r, null),
    );
    uploads.post('/v1/audio/translations', { schema: { hide: true } }, (q: FastifyRequest, r: FastifyReply) =>
      gateway.serve(translations, q, r, null),
    );
  });
  // The Gemini API (/v1beta) for Google's SDKs: models/{model}:{generateContent|streamGenerateContent|…}.
  app.post('/v1beta/models/*', { schema: { hide: true } }, (q: FastifyRequest, r: FastifyReply) => {
    const endpoint = geminiEndpointFor(q);
    return gateway.serve<unknown, unknown>(endpoint as Endpoint<unknown, unknown>, q, r, null);
  });
  app.get('/v1beta/models', { schema: { hide: true } }, async (request) => {
    const caller = await gateway.authenticate(request);
    return { models: gateway.visibleModels(caller).map(toGeminiModel) };
  });
  app.get<{ Params: { '*': string } }>('/v1beta/models/*', { schema: { hide: true } }, async (request) => {
    const caller = await gateway.authenticate(request);
    const model = gateway.visibleModels(caller).find((m) => m.name === request.params['*']);
    if (!model) throw new ApiError('model_not_found', `models/${request.params['*']} is not found`);
    return toGeminiModel(model);
  });

  app.get('/v1/models', { schema: { hide: true } }, async (request) => {
    const caller = await gateway.authenticate(request);
    return { object: 'list', data: gateway.visibleModels(caller).map(toModelObject) };
  });

  app.get<{ Params: { '*': string } }>('/v1/models/*', { schema: { hide: true } }, async (request) => {
    const caller = await gateway.authenticate(request);
    const id = request.params['*'];
    const model = gateway.visibleModels(caller).find((m) => m.name === id);
    if (!model)
      throw new ApiError('model_not_found', `The model '${id}' does not exist or you do not have access to it`, {
        param: 'model',
      });
    return toModelObject(model);
  });
}

function toModelObject(model: { name: string; createdAt: number }) {
  return { id: model.name, object: 'model', created: Math.floor(model.createdAt / 1000), owned_by: 'aihub' };
}

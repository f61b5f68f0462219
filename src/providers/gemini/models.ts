/**
 * Gemini's model list: `GET {base}/models?pageSize=1000` (base `…/v1beta`) with `x-goog-api-key`, answered
 * `{ models: [{ name: "models/gemini-2.5-flash", displayName, supportedGenerationMethods, … }], nextPageToken }`
 * (ai.google.dev, "models.list"); names lose their `models/` prefix, as channels route them.
 */
import { idsOf, jsonGet } from '../shared/account.js';
import { joinUrl } from '../shared/http-request.js';
import { isRecord } from '../shared/json.js';
import type { ModelListApi } from '../types.js';
import { geminiAuthHeaders } from './api.js';

export const geminiModelList: ModelListApi = {
  buildRequest: (target) =>
    jsonGet(`${joinUrl(target.baseUrl, 'models')}?pageSize=1000`, target.headers, geminiAuthHeaders(target)),
  parse: (body) => idsOf(isRecord(body) ? body.models : undefined, 'name', 'models/'),
};

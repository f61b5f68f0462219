/**
 * Anthropic's model list: `GET {base}/v1/models?limit=1000` with `x-api-key` and `anthropic-version`, answered
 * `{ data: [{ type: "model", id, display_name, created_at }], has_more, first_id, last_id }`
 * (docs.anthropic.com, "List Models"; 1000 is the page limit, more than Anthropic has models).
 */
import { idsOf, jsonGet } from '../shared/account.js';
import { isRecord } from '../shared/json.js';
import type { ModelListApi } from '../types.js';
import { anthropicHeaders, messagesUrl } from './api.js';

export const anthropicModelList: ModelListApi = {
  buildRequest(target) {
    const { 'content-type': _json, ...headers } = anthropicHeaders(target);
    return jsonGet(`${messagesUrl(target.baseUrl).replace(/\/messages$/, '/models')}?limit=1000`, {}, headers);
  },
  parse: (body) => idsOf(isRecord(body) ? body.data : undefined),
};

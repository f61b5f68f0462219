/**
 * Azure OpenAI's model list. The v1 form (`options.apiMode = 'v1'`) serves `GET {endpoint}/openai/v1/models`; the
 * classic form `GET {endpoint}/openai/models?api-version=…` ("Models - List" of the data-plane API). Both answer
 * the OpenAI list shape `{ data: [{ id, … }] }`. These are the models the resource may deploy, not its
 * deployments (the data plane no longer lists those): a channel names deployments in `modelMapping`.
 */
import { idsOf, jsonGet } from '../shared/account.js';
import { isRecord } from '../shared/json.js';
import type { ModelListApi } from '../types.js';
import { AZURE_DEFAULT_API_VERSION, azureAuthHeaders, isV1 } from './api.js';

export const azureModelList: ModelListApi = {
  buildRequest(target) {
    const base = target.baseUrl.replace(/\/+$/, '').replace(/\/openai(\/v1|\/deployments\/.*)?$/, '');
    const url = isV1(target)
      ? `${base}/openai/v1/models`
      : `${base}/openai/models?api-version=${encodeURIComponent(target.options.apiVersion || AZURE_DEFAULT_API_VERSION)}`;
    return jsonGet(url, target.headers, azureAuthHeaders(target));
  },
  parse: (body) => idsOf(isRecord(body) ? body.data : undefined),
};

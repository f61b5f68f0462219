/**
 * Azure OpenAI addressing. Two forms (PROTOCOLS.md §2.1, §2.2):
 * - classic (default): `{endpoint}/openai/deployments/{deployment}/{path}?api-version={version}`,
 *   header `api-key`; the deployment in the path picks the model.
 * - v1 (`options.apiMode = 'v1'`): `{endpoint}/openai/v1/{path}`, no api-version, `model` in the body
 *   is the deployment name; the key goes as `Authorization: Bearer`, as the OpenAI client sends it in
 *   Microsoft's v1 example.
 * Channel options: `apiVersion`, `deployment` (default: the upstream model), `apiMode`, and `auth`
 * (`api-key` | `bearer`, to override the header, e.g. for an Entra ID token on the classic form).
 */
import { joinUrl } from '../shared/http-request.js';
import type { UpstreamTarget } from '../types.js';

/** The latest GA dated api-version named in PROTOCOLS.md §2.1. */
export const AZURE_DEFAULT_API_VERSION = '2024-10-21';

/** Azure has no global endpoint: every channel names its resource (`https://{resource}.openai.azure.com`). */
export const AZURE_DEFAULT_BASE_URL = '';

export type AzurePath =
  | 'chat/completions'
  | 'embeddings'
  | 'completions'
  | 'images/generations'
  | 'images/edits'
  | 'audio/transcriptions'
  | 'audio/translations'
  | 'audio/speech';

/** True when the channel opted into the v1 API form. */
export function isV1(target: UpstreamTarget): boolean {
  return target.options.apiMode === 'v1';
}

/** The deployment a request addresses: `options.deployment`, else the channel's upstream model. */
export function azureDeployment(target: UpstreamTarget): string {
  return target.options.deployment || target.upstreamModel;
}

/**
 * The request URL. Tolerates a base URL saved with `/openai`, `/openai/v1` or a full deployment path
 * (the openai-node Azure client accepts the latter too).
 * @example azureUrl({ baseUrl: 'https://res.openai.azure.com', options: {}, upstreamModel: 'gpt-4o', … }, 'chat/completions')
 * // 'https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21'
 */
export function azureUrl(target: UpstreamTarget, path: AzurePath): string {
  const base = target.baseUrl.replace(/\/+$/, '');
  if (isV1(target)) {
    const root = /\/openai\/v1$/.test(base) ? base : /\/openai$/.test(base) ? `${base}/v1` : `${base}/openai/v1`;
    return joinUrl(root, path);
  }
  const version = encodeURIComponent(target.options.apiVersion || AZURE_DEFAULT_API_VERSION);
  const deploymentRoot = base.includes('/deployments/')
    ? base
    : `${/\/openai$/.test(base) ? base : `${base}/openai`}/deployments/${encodeURIComponent(azureDeployment(target))}`;
  return `${joinUrl(deploymentRoot, path)}?api-version=${version}`;
}

/** `api-key: <key>` on the classic form, `Authorization: Bearer <key>` on v1, unless `options.auth` says otherwise. */
export function azureAuthHeaders(target: UpstreamTarget): Record<string, string> {
  if (target.apiKey === '') return {};
  const scheme = target.options.auth || (isV1(target) ? 'bearer' : 'api-key');
  return scheme === 'bearer' ? { Authorization: `Bearer ${target.apiKey}` } : { 'api-key': target.apiKey };
}

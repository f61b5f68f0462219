/**
 * Account balance of OpenAI-compatible upstreams, whose servers answer in one of three ways:
 * - DeepSeek: `GET {origin}/user/balance` → `{ is_available, balance_infos: [{ currency, total_balance,
 *   granted_balance, topped_up_balance }] }` (amounts are decimal strings; api-docs.deepseek.com, "Get User Balance").
 * - OpenRouter: `GET {base}/credits` (base `https://openrouter.ai/api/v1`) → `{ data: { total_credits,
 *   total_usage } }` in USD (openrouter.ai/docs, "Get remaining credits"; needs a management key).
 * - New API / One API resellers: the old OpenAI billing pair `GET {base}/dashboard/billing/subscription` →
 *   `{ object: "billing_subscription", hard_limit_usd, soft_limit_usd, system_hard_limit_usd, access_until }` and
 *   `GET {base}/dashboard/billing/usage?start_date&end_date` → `{ object: "list", total_usage }` (cents).
 * The channel option `balanceApi` picks one (`auto`: by host — api.deepseek.com, openrouter.ai, else the pair).
 */
import { bearerAuth } from '../openai/api.js';
import { jsonGet, toMicros } from '../shared/account.js';
import { joinUrl } from '../shared/http-request.js';
import { isRecord, readRecord } from '../shared/json.js';
import type { BalanceApi, UpstreamBalance, UpstreamTarget } from '../types.js';

export const BALANCE_APIS = ['auto', 'deepseek', 'openrouter', 'new-api', 'none'] as const;
type BalanceKind = Exclude<(typeof BALANCE_APIS)[number], 'auto'>;

/** Which balance API a channel's upstream speaks. */
export function balanceKind(target: UpstreamTarget): BalanceKind {
  const chosen = target.options.balanceApi;
  if (chosen && chosen !== 'auto' && (BALANCE_APIS as readonly string[]).includes(chosen)) return chosen as BalanceKind;
  let host = '';
  try {
    host = new URL(target.baseUrl).hostname;
  } catch {
    return 'none';
  }
  if (host === 'api.deepseek.com') return 'deepseek';
  if (host === 'openrouter.ai' || host.endsWith('.openrouter.ai')) return 'openrouter';
  return 'new-api';
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** `{base}` without a trailing `/v1` (DeepSeek serves `/user/balance` at the root only). */
const withoutV1 = (base: string) => base.replace(/\/+$/, '').replace(/\/v1$/, '');

function unknownBalance(currency: string): UpstreamBalance {
  return { currency, remainingMicros: null, usedMicros: null, limitMicros: null };
}

function parseDeepSeek(body: unknown): UpstreamBalance {
  const infos = isRecord(body) && Array.isArray(body.balance_infos) ? body.balance_infos.filter(isRecord) : [];
  // Several currencies: USD first, as DeepSeek's own console shows it.
  const info = infos.find((i) => i.currency === 'USD') ?? infos[0];
  if (!info) return unknownBalance('USD');
  return {
    currency: typeof info.currency === 'string' ? info.currency : 'USD',
    remainingMicros: toMicros(info.total_balance),
    usedMicros: null,
    limitMicros: null,
  };
}

function parseOpenRouter(body: unknown): UpstreamBalance {
  const data = isRecord(body) ? readRecord(body, 'data') : undefined;
  const total = toMicros(data?.total_credits);
  const used = toMicros(data?.total_usage);
  return {
    currency: 'USD',
    remainingMicros: total !== null && used !== null ? total - used : null,
    usedMicros: used,
    limitMicros: total,
  };
}

function parseNewApi(subscription: unknown, usage: unknown): UpstreamBalance {
  const limit = isRecord(subscription) ? toMicros(subscription.hard_limit_usd) : null;
  const cents = isRecord(usage) ? toMicros(usage.total_usage) : null;
  const used = cents === null ? null : Math.round(cents / 100);
  return {
    currency: 'USD',
    remainingMicros: limit !== null ? limit - (used ?? 0) : null,
    usedMicros: used,
    limitMicros: limit,
  };
}

export const compatibleBalance: BalanceApi = {
  buildRequests(target, now) {
    const auth = bearerAuth(target);
    switch (balanceKind(target)) {
      case 'deepseek':
        return [jsonGet(joinUrl(withoutV1(target.baseUrl), 'user/balance'), target.headers, auth)];
      case 'openrouter':
        return [jsonGet(joinUrl(target.baseUrl, 'credits'), target.headers, auth)];
      case 'new-api':
        return [
          jsonGet(joinUrl(target.baseUrl, 'dashboard/billing/subscription'), target.headers, auth),
          jsonGet(
            `${joinUrl(target.baseUrl, 'dashboard/billing/usage')}?start_date=${day(now - 99 * 86_400_000)}&end_date=${day(now + 86_400_000)}`,
            target.headers,
            auth,
          ),
        ];
      default:
        return null;
    }
  },
  parse(bodies, target) {
    switch (balanceKind(target)) {
      case 'deepseek':
        return parseDeepSeek(bodies[0]);
      case 'openrouter':
        return parseOpenRouter(bodies[0]);
      default:
        return parseNewApi(bodies[0], bodies[1]);
    }
  },
};

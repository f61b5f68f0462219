/** Stage 1 without HTTP: which credential is read, the master key, verdicts as 401s, model allow-lists. */
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../core/errors.js';
import type { KeyCheck, KeyLookup } from '../ports.js';
import { authenticateCaller, type Caller, mayUseModel, presentedKey } from './authenticate.js';

const requestWith = (headers: Record<string, string>) => ({ headers }) as unknown as FastifyRequest;

function lookup(verdicts: Record<string, KeyCheck>): KeyLookup & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    verify: async (secret) => {
      asked.push(secret);
      return verdicts[secret] ?? { ok: false, code: 'NOT_FOUND' };
    },
    verifyId: async () => ({ ok: false, code: 'NOT_FOUND' }),
  };
}

const KEY = {
  id: 'key_1',
  userId: 'usr_1',
  orgId: 'org_1',
  teamId: null,
  allowedModels: ['gpt-*'],
  modelLimits: [],
  channelLimits: [],
  allowedIps: ['10.0.0.0/8'],
  responseCache: false,
  limits: { rpm: 5 },
};

describe('presentedKey', () => {
  it('reads a Bearer token, else x-api-key (as Anthropic clients send it)', () => {
    expect(presentedKey(requestWith({ authorization: 'Bearer sk-a' }))).toBe('sk-a');
    expect(presentedKey(requestWith({ 'x-api-key': ' sk-b ' }))).toBe('sk-b');
    expect(presentedKey(requestWith({ authorization: 'Bearer sk-a', 'x-api-key': 'sk-b' }))).toBe('sk-a');
    expect(presentedKey(requestWith({}))).toBeUndefined();
    expect(presentedKey(requestWith({ 'x-api-key': '' }))).toBeUndefined();
  });

  it("reads Google's x-goog-api-key, and ?key= only on the Gemini API (/v1beta)", () => {
    const at = (url: string, query: Record<string, string>, headers: Record<string, string> = {}) =>
      ({ headers, url, query }) as unknown as FastifyRequest;
    expect(presentedKey(at('/v1beta/models', {}, { 'x-goog-api-key': 'sk-g' }))).toBe('sk-g');
    expect(presentedKey(at('/v1beta/models', { key: 'sk-q' }))).toBe('sk-q');
    expect(presentedKey(at('/v1/chat/completions', { key: 'sk-q' }))).toBeUndefined();
    expect(presentedKey(at('/v1beta/models', { key: 'sk-q' }, { authorization: 'Bearer sk-a' }))).toBe('sk-a');
  });
});

describe('authenticateCaller', () => {
  it('refuses a request without a key (401), without asking the lookup', async () => {
    const keys = lookup({});
    const error = await authenticateCaller(requestWith({}), keys, 'mk').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key' });
    expect(keys.asked).toEqual([]);
  });

  it('takes the master key as an unrestricted caller, without asking the lookup', async () => {
    const keys = lookup({});
    const caller = await authenticateCaller(requestWith({ authorization: 'Bearer mk' }), keys, 'mk');
    expect(caller).toMatchObject({ keyId: null, userId: null, allowedModels: null, keyLimits: null });
    expect(keys.asked).toEqual([]);
  });

  it("maps a key to its caller, with the key's restrictions and limits", async () => {
    const keys = lookup({ 'sk-a': { ok: true, key: KEY } });
    const caller = await authenticateCaller(requestWith({ authorization: 'Bearer sk-a' }), keys, undefined);
    expect(caller).toEqual({
      keyId: 'key_1',
      userId: 'usr_1',
      orgId: 'org_1',
      teamId: null,
      allowedModels: ['gpt-*'],
      modelLimits: [],
      channelLimits: [],
      allowedIps: ['10.0.0.0/8'],
      keyLimits: { rpm: 5 },
      responseCache: false,
    });
  });

  it('turns each verdict into a 401 with its own message', async () => {
    const codes = ['NOT_FOUND', 'REVOKED', 'DISABLED', 'EXPIRED', 'OWNER_DISABLED', 'ORG_DISABLED'] as const;
    const messages = new Set<string>();
    for (const code of codes) {
      const keys = lookup({ 'sk-x': { ok: false, code } });
      const error = await authenticateCaller(requestWith({ 'x-api-key': 'sk-x' }), keys, 'mk').catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 401, code: 'invalid_api_key' });
      messages.add((error as ApiError).message);
    }
    expect(messages.size).toBe(codes.length);
  });
});

describe('mayUseModel', () => {
  const caller = (allowedModels: string[] | null, modelLimits: string[][] = []): Caller => ({
    keyId: 'k',
    userId: null,
    orgId: null,
    teamId: null,
    allowedModels,
    modelLimits,
    channelLimits: [],
    allowedIps: null,
    keyLimits: null,
    responseCache: false,
  });
  it("also requires a match in each of the organization's and team's lists", () => {
    expect(mayUseModel(caller(null, [['gpt-*']]), 'gpt-4o')).toBe(true);
    expect(mayUseModel(caller(null, [['gpt-*']]), 'claude-3')).toBe(false);
    expect(mayUseModel(caller(['*'], [['gpt-*'], ['gpt-4o']]), 'gpt-4o-mini')).toBe(false);
    expect(mayUseModel(caller(['*'], [['gpt-*'], ['gpt-4o*']]), 'gpt-4o-mini')).toBe(true);
  });

  it('allows everything without a list, exact names, `*` and prefix wildcards', () => {
    expect(mayUseModel(caller(null), 'any')).toBe(true);
    expect(mayUseModel(caller(['a']), 'a')).toBe(true);
    expect(mayUseModel(caller(['a']), 'ab')).toBe(false);
    expect(mayUseModel(caller(['*']), 'x')).toBe(true);
    expect(mayUseModel(caller(['gpt-*']), 'gpt-4o')).toBe(true);
    expect(mayUseModel(caller(['gpt-*']), 'claude')).toBe(false);
    expect(mayUseModel(caller([]), 'a')).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import type { BatchesTable } from '../../infra/db/schema.js';
import { checkLine, errorLine, modelOfLine, responseLine, toBatchObject } from './format.js';

const line = (over: Record<string, unknown> = {}) => ({
  custom_id: 'r1',
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model: 'm', messages: [] },
  ...over,
});

describe('checkLine', () => {
  it('accepts a well-formed line and names what is wrong with a bad one', () => {
    expect(checkLine(line(), '/v1/chat/completions')).toEqual({ ok: true, customId: 'r1', body: line().body });
    expect(checkLine(line({ custom_id: 3 }), '/v1/chat/completions')).toMatchObject({
      ok: false,
      code: 'missing_custom_id',
    });
    expect(checkLine(line({ method: 'GET' }), '/v1/chat/completions')).toMatchObject({
      ok: false,
      code: 'invalid_method',
    });
    expect(checkLine(line({ url: '/v1/embeddings' }), '/v1/chat/completions')).toMatchObject({
      ok: false,
      customId: 'r1',
      code: 'invalid_url',
    });
    expect(checkLine(line({ body: [1] }), '/v1/chat/completions')).toMatchObject({ ok: false, code: 'invalid_body' });
  });

  it('reads the model of a line', () => {
    expect(modelOfLine(line())).toBe('m');
    expect(modelOfLine(line({ body: {} }))).toBeUndefined();
  });
});

describe('output lines', () => {
  it('follow OpenAI’s batch output format', () => {
    expect(JSON.parse(responseLine('batch_req_1', 'r1', 200, 'req_1', { ok: true }))).toEqual({
      id: 'batch_req_1',
      custom_id: 'r1',
      response: { status_code: 200, request_id: 'req_1', body: { ok: true } },
      error: null,
    });
    expect(JSON.parse(errorLine('batch_req_2', 'r2', 'batch_expired', 'too late'))).toEqual({
      id: 'batch_req_2',
      custom_id: 'r2',
      response: null,
      error: { code: 'batch_expired', message: 'too late' },
    });
  });
});

describe('toBatchObject', () => {
  it('gives times in seconds, the counts and the metadata', () => {
    const row: BatchesTable = {
      id: 'batch_1',
      org_id: 'org',
      key_id: 'key',
      user_id: null,
      job_id: null,
      endpoint: '/v1/embeddings',
      input_file_id: 'file-1',
      output_file_id: null,
      error_file_id: null,
      completion_window: '24h',
      status: 'in_progress',
      total: 3,
      completed: 1,
      failed: 1,
      metadata: '{"a":"b"}',
      errors: null,
      client_ip: null,
      created_at: 1_700_000_000_999,
      in_progress_at: 1_700_000_001_000,
      expires_at: 1_700_086_400_999,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
    };
    expect(toBatchObject(row)).toMatchObject({
      object: 'batch',
      created_at: 1_700_000_000,
      in_progress_at: 1_700_000_001,
      expires_at: 1_700_086_400,
      request_counts: { total: 3, completed: 1, failed: 1 },
      metadata: { a: 'b' },
      errors: null,
    });
  });
});

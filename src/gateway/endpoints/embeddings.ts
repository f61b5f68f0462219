/** POST /v1/embeddings: OpenAI Embeddings over any adapter that declares the `embeddings` endpoint. */
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../providers/types.js';
import { countTokens, countTokensOf, type TokenCounts } from '../accounting.js';
import { clientFault, UpstreamFailure } from '../pipeline/failure.js';
import { readText } from '../pipeline/upstream.js';
import { checkOpenAiEmbeddings } from '../request-checks.js';
import type { Endpoint } from './endpoint.js';

export const embeddings: Endpoint<EmbeddingsRequest, EmbeddingsResponse> = {
  kind: 'embeddings',
  accept(request) {
    checkOpenAiEmbeddings(request.body);
    return request.body as EmbeddingsRequest;
  },
  model: (body) => body.model,
  streams: () => false,
  estimate: (body) => ({ promptTokens: Math.ceil(JSON.stringify(body.input).length / 3), maxOutputTokens: 0 }),
  sink: () => undefined,
  async attempt(x, attempt) {
    const { channel } = attempt.target;
    const { adapter } = channel;
    const body = x.call;
    const inProcess = adapter.inProcess;
    if (inProcess && adapter.endpoints.includes('embeddings'))
      return clientFault(() => inProcess.embeddings({ ...body, model: attempt.upstream.upstreamModel }));
    const build = adapter.buildEmbeddingsRequest;
    if (!build || !adapter.parseEmbeddingsResponse || !adapter.endpoints.includes('embeddings')) {
      // Another channel of the model may serve embeddings: retryable.
      throw new UpstreamFailure({
        status: 400,
        code: 'bad_request',
        message: `Channel ${channel.name} (${channel.type}) does not serve embeddings`,
        retryable: true,
      });
    }
    const http = clientFault(() => build.call(adapter, body, attempt.upstream));
    const res = await x.upstream.send(http, channel.timeouts, attempt.signal);
    attempt.upstreamStatus = res.status;
    if (res.status >= 400)
      throw new UpstreamFailure(adapter.parseError(res.status, await readText(res.body), res.headers));
    return adapter.parseEmbeddingsResponse(JSON.parse(await res.body.text()), body);
  },
  answer(body, result) {
    const reported = result.usage?.prompt_tokens;
    const tokens = (prompt: number): TokenCounts => ({
      prompt,
      completion: 0,
      cached: 0,
      reasoning: 0,
      estimated: reported === undefined,
    });
    return {
      body: result,
      tokens: reported === undefined ? estimateInputTokens(body.input).then(tokens) : tokens(reported),
    };
  },
};

/** Tokens of an embeddings input: strings counted by the tokenizer, token arrays by their length. */
async function estimateInputTokens(input: EmbeddingsRequest['input']): Promise<number> {
  if (typeof input === 'string') return countTokens(input);
  const texts: string[] = [];
  let total = 0;
  for (const item of input) {
    if (typeof item === 'string') texts.push(item);
    else total += Array.isArray(item) ? item.length : 1;
  }
  for (const count of await countTokensOf(texts)) total += count;
  return total;
}

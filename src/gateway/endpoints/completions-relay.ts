/**
 * A legacy completions stream from a channel with a completions API, relayed as the upstream sent it
 * (same protocol: `data:` text_completion chunks, then `[DONE]`). The gateway asks for usage
 * (`stream_options.include_usage`) and forwards that usage-only chunk only when the client asked too.
 */
import { StringDecoder } from 'node:string_decoder';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { isRecord } from '../../providers/shared/json.js';
import { normaliseUsage } from '../../providers/shared/usage.js';
import type { ChatRequest, ChatUsage } from '../../providers/types.js';
import { fromUsage, OutputAccumulator, type TokenCounts } from '../accounting.js';
import type { StreamSink } from '../pipeline/chat-attempt.js';
import type { Attempt } from '../pipeline/dispatch.js';
import { CLIENT_CLOSED, UpstreamFailure } from '../pipeline/failure.js';
import { settleBrokenStream } from '../pipeline/settle.js';
import type { Exchange } from './endpoint.js';
import { sendForwarded } from './forwarded.js';

export interface RelayedCompletions {
  body: Record<string, unknown> & { model: string };
  /** The prompt as a chat request, for estimating tokens the upstream never reported. */
  estimateAs: ChatRequest;
  includeUsage: boolean;
}

/** One stream attempt on the same-protocol path; settles the ledger. */
export async function relayCompletionsStream(
  x: Exchange<RelayedCompletions>,
  sink: StreamSink,
  attempt: Attempt,
): Promise<undefined> {
  const { call, ledger, client } = x;
  let usage: ChatUsage | null = null;
  const output = new OutputAccumulator();
  const tokens = (): TokenCounts | Promise<TokenCounts> =>
    usage ? fromUsage(usage) : output.estimate(call.estimateAs);
  let answered = false;
  try {
    const body = { ...call.body, stream: true, stream_options: { include_usage: true } };
    const res = await sendForwarded(x, attempt, 'completions', body);
    const events: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (event) => events.push(event) });
    const decoder = new StringDecoder('utf8');
    for await (const buf of res.body) {
      parser.feed(decoder.write(buf as Buffer));
      let out = '';
      let done = false;
      for (const event of events) {
        if (event.data === '[DONE]') {
          done = true;
          continue;
        }
        const chunk = JSON.parse(event.data) as unknown;
        if (!isRecord(chunk)) continue;
        if (chunk.error !== undefined)
          throw new UpstreamFailure({
            status: 502,
            code: 'upstream_error',
            message: `Upstream ${attempt.target.channel.name} reported an error mid-stream`,
            retryable: true,
          });
        const reported = normaliseUsage(chunk.usage);
        if (reported) usage = reported;
        const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
        for (const choice of choices)
          if (isRecord(choice) && typeof choice.text === 'string') output.addText(choice.text);
        if (choices.length === 0 && !call.includeUsage) continue;
        out += sink.raw(event.data);
      }
      events.length = 0;
      if (done) {
        if (out) ledger.markFirstToken();
        client.end(out + sink.end(usage));
        answered = true;
      } else if (out) {
        ledger.markFirstToken();
        const backpressure = client.write(out);
        if (backpressure) await backpressure;
      }
    }
    if (!answered)
      throw new UpstreamFailure({
        status: 502,
        code: 'upstream_error',
        message: `Upstream ${attempt.target.channel.name} ended the stream before [DONE]`,
        retryable: true,
      });
  } catch (error) {
    settleBrokenStream(error, { answered, ledger, sink, client, attempt, tokens });
    return;
  }
  if (client.gone) {
    ledger.settle(CLIENT_CLOSED, 'client_closed', tokens());
    return;
  }
  ledger.settle(200, null, tokens());
}

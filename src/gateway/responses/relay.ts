/**
 * One stream attempt of `/v1/responses` on the same-protocol path: the upstream's Responses events go to
 * the client as they came (re-framed, payloads untouched); usage and the final response object are read
 * from the terminal event (response.completed, response.incomplete or response.failed). A stream that ends
 * without one is a cut.
 */
import { StringDecoder } from 'node:string_decoder';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { fromResponsesUsage } from '../../providers/openai/responses/from-chat.js';
import type { ResponseObject } from '../../providers/openai/responses/types.js';
import { isRecord } from '../../providers/shared/json.js';
import type { ChatUsage } from '../../providers/types.js';
import { fromUsage, OutputAccumulator, type TokenCounts } from '../accounting.js';
import type { Exchange } from '../endpoints/endpoint.js';
import type { ResponsesCall } from '../endpoints/responses.js';
import type { Attempt } from '../pipeline/dispatch.js';
import { CLIENT_CLOSED, clientFault, UpstreamFailure } from '../pipeline/failure.js';
import { settleBrokenStream } from '../pipeline/settle.js';
import { readText } from '../pipeline/upstream.js';
import { upstreamBody } from './conversation.js';

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/** The event's type: its SSE name, else the payload's `type` (read only when the name is missing). */
function typeOf(event: EventSourceMessage): string {
  if (event.event) return event.event;
  try {
    const parsed = JSON.parse(event.data) as unknown;
    return isRecord(parsed) && typeof parsed.type === 'string' ? parsed.type : '';
  } catch {
    return '';
  }
}

/**
 * Relay the upstream's stream to the client and settle the request. Returns the final response object of
 * a stream that reached its terminal event (completed or incomplete), for the store.
 */
export async function relayResponsesStream(
  x: Exchange<ResponsesCall>,
  attempt: Attempt,
): Promise<ResponseObject | undefined> {
  const { call, ledger, client, sink } = x;
  const { channel } = attempt.target;
  const native = channel.adapter.responses;
  if (!native || !sink) throw new Error('relayResponsesStream needs a /responses channel and a stream');
  const relay = { sequence: -1 };
  call.relay = relay;
  let usage: ChatUsage | undefined;
  let final: ResponseObject | undefined;
  /** Payloads of delta events, parsed only if the upstream never reports usage. */
  const deltas: string[] = [];
  const tokens = (): TokenCounts | Promise<TokenCounts> => {
    if (usage) return fromUsage(usage);
    const output = new OutputAccumulator();
    for (const data of deltas) {
      try {
        const parsed = JSON.parse(data) as { delta?: unknown };
        if (typeof parsed.delta === 'string') output.addText(parsed.delta);
      } catch {
        // not JSON: nothing to count
      }
    }
    return output.estimate(call.chat);
  };
  let answered = false;
  let failed = false;
  try {
    const http = clientFault(() => native.buildRequest(upstreamBody(call), attempt.upstream));
    const res = await x.upstream.send(http, channel.timeouts, attempt.signal);
    attempt.upstreamStatus = res.status;
    if (res.status >= 400)
      throw new UpstreamFailure(channel.adapter.parseError(res.status, await readText(res.body), res.headers));
    const events: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (event) => events.push(event) });
    const decoder = new StringDecoder('utf8');
    for await (const buf of res.body) {
      parser.feed(decoder.write(buf as Buffer));
      let out = '';
      let end = false;
      for (const event of events) {
        const type = typeOf(event);
        if (type.endsWith('.delta')) deltas.push(event.data);
        else if (TERMINAL.has(type) || type === 'error') {
          const parsed = JSON.parse(event.data) as { response?: unknown };
          if (type !== 'error' && isRecord(parsed.response)) {
            const response = parsed.response as unknown as ResponseObject;
            usage = fromResponsesUsage(response.usage);
            if (call.followUp && !call.followUp.previous.native)
              response.previous_response_id = call.followUp.previous.id;
            final = response;
          }
          failed = type === 'error' || type === 'response.failed';
          end = true;
        }
        relay.sequence++;
        out += event.event ? `event: ${event.event}\ndata: ${event.data}\n\n` : `data: ${event.data}\n\n`;
        if (end) break;
      }
      events.length = 0;
      if (out === '') continue;
      ledger.markFirstToken();
      if (end) {
        client.end(out);
        answered = true;
        break;
      }
      const backpressure = client.write(out);
      if (backpressure) await backpressure;
    }
    if (!answered)
      throw new UpstreamFailure({
        status: 502,
        code: 'upstream_error',
        message: `Upstream ${channel.name} ended the stream before its terminal event`,
        retryable: true,
      });
  } catch (error) {
    settleBrokenStream(error, { answered, ledger, sink, client, attempt, tokens });
    return undefined;
  }
  if (client.gone && !answered) {
    ledger.settle(CLIENT_CLOSED, 'client_closed', tokens());
    return undefined;
  }
  if (failed) {
    ledger.settle(502, 'upstream_error', tokens());
    return undefined;
  }
  ledger.settle(200, null, tokens());
  return final;
}

/** What a follow-up (`previous_response_id`) sends upstream when the conversation lives only in the hub. */
import type { ResponsesCall } from '../endpoints/responses.js';

/** The body for an upstream that serves /responses: as it came, unless its conversation lives only here. */
export function upstreamBody(call: ResponsesCall): Record<string, unknown> {
  const { followUp } = call;
  // A background run is the hub's: the upstream answers it in the foreground.
  let body: Record<string, unknown> = call.body;
  if (call.backgroundId !== undefined) {
    const { background: _, ...foreground } = call.body;
    body = foreground;
  }
  if (!followUp || followUp.previous.native) return body;
  const { previous_response_id: _, ...rest } = body;
  // Item ids of our own making mean nothing upstream.
  const history = followUp.items.map(({ id: _id, ...item }) => item);
  return { ...rest, input: [...history, ...call.input] };
}

/**
 * The OpenAI fake's `/v1/responses`: the recorded-shape fixtures of test/fixtures/openai/responses-*, each
 * answer with a fresh `resp_…` id that the fake remembers with the key that made it, so a follow-up with
 * `previous_response_id` works only on the same key (as OpenAI's state is per organization/project) and is
 * answered 400 `previous_response_not_found` elsewhere. An input that carries a `function_call_output`
 * gets the text answer (the end of a function-calling loop); otherwise the scenario decides.
 */
import { type Exchange, fixtureEvents, fixtureJson, isRecord } from './http.js';

const TEXT_ID = 'resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b';
const TOOL_ID = 'resp_67ca09c5efe0819096d0511c92b8c890096610f474011cc0';

function error(message: string, param: string | null, code: string | null) {
  return { error: { message, type: 'invalid_request_error', param, code } };
}

/** State of one fake: the responses it made, with the key that made each. */
export class FakeResponsesState {
  readonly made = new Map<string, string>();
  /** Ids differ between fakes, as OpenAI's are unique. */
  readonly #prefix = Math.random().toString(16).slice(2, 10).padEnd(8, '0');
  #next = 1;

  newId(key: string): string {
    const id = `resp_${this.#prefix}${String(this.#next++).padStart(40, '0')}`;
    this.made.set(id, key);
    return id;
  }
}

/** Answer one POST /v1/responses (the key was already checked: `key` is the one presented). */
export async function answerResponses(exchange: Exchange, key: string, state: FakeResponsesState): Promise<void> {
  const { req, scenario } = exchange;
  const body = req.body;
  if (!isRecord(body) || typeof body.model !== 'string' || body.model === '') {
    exchange.json(400, error("Missing required parameter: 'model'.", 'model', 'missing_required_parameter'));
    return;
  }
  const previous = body.previous_response_id;
  if (typeof previous === 'string' && state.made.get(previous) !== key) {
    exchange.json(
      400,
      error(
        `Previous response with id '${previous}' not found.`,
        'previous_response_id',
        'previous_response_not_found',
      ),
    );
    return;
  }
  const hostedTool = Array.isArray(body.tools) && body.tools.some((t) => isRecord(t) && t.type !== 'function');
  const afterTool =
    Array.isArray(body.input) && body.input.some((item) => isRecord(item) && item.type === 'function_call_output');
  const tool = !afterTool && !hostedTool && scenario.name === 'tool_call';
  const id = state.newId(key);
  const stream = body.stream === true;
  if (stream) {
    const events =
      scenario.replay ?? fixtureEvents('openai', tool ? 'responses-stream-tool-call.sse' : 'responses-stream-text.sse');
    await exchange.sse(events.map((event) => event.replaceAll(tool ? TOOL_ID : TEXT_ID, id)));
    return;
  }
  const answer =
    (scenario.body as Record<string, unknown> | undefined) ??
    fixtureJson('openai', tool ? 'responses-tool-call.json' : 'responses-text.json');
  exchange.json(200, { ...answer, id, previous_response_id: typeof previous === 'string' ? previous : null });
}

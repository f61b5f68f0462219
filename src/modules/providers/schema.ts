import { type Static, Type } from '@sinclair/typebox';

const OptionField = Type.Object({
  key: Type.String({ description: "The key under the channel's options.provider" }),
  kind: Type.Union([Type.Literal('text'), Type.Literal('select'), Type.Literal('number')]),
  choices: Type.Optional(Type.Array(Type.String(), { description: 'The values a select offers' })),
  placeholder: Type.Optional(Type.String()),
  default: Type.Optional(Type.String({ description: 'What the adapter uses when the channel sets nothing' })),
  required: Type.Optional(Type.Boolean()),
});

const Endpoint = Type.Union([
  Type.Literal('chat'),
  Type.Literal('messages'),
  Type.Literal('embeddings'),
  Type.Literal('count_tokens'),
  Type.Literal('moderations'),
  Type.Literal('completions'),
  Type.Literal('rerank'),
  Type.Literal('image_generations'),
  Type.Literal('image_edits'),
  Type.Literal('transcriptions'),
  Type.Literal('translations'),
  Type.Literal('speech'),
]);

/** What a channel of one provider needs and can do: the console builds its channel form from this. */
export const ProviderDescriptionSchema = Type.Object(
  {
    id: Type.String({ description: "The channel's type" }),
    label: Type.String(),
    key: Type.Union([Type.Literal('required'), Type.Literal('optional'), Type.Literal('none')], {
      description: 'Whether a channel needs provider keys',
    }),
    baseUrl: Type.Object({
      mode: Type.Union([Type.Literal('default'), Type.Literal('required'), Type.Literal('none')], {
        description: 'default: a public endpoint (overridable); required: each channel names one; none: no network',
      }),
      default: Type.Union([Type.String(), Type.Null()]),
      example: Type.Optional(Type.String()),
    }),
    options: Type.Array(OptionField),
    endpoints: Type.Array(Endpoint, { description: 'The upstream APIs it serves' }),
    passThrough: Type.Array(Type.Union([Type.Literal('chat'), Type.Literal('messages')]), {
      description: 'Inbound protocols whose bytes go to and from the upstream unchanged',
    }),
  },
  { $id: 'ProviderDescription' },
);

export type ProviderDescription = Static<typeof ProviderDescriptionSchema>;

/**
 * Where clients send requests, and first calls to copy. The OpenAI SDKs take a base URL that ends in /v1;
 * the Anthropic SDKs add /v1/messages themselves, so their base URL is the bare origin.
 */
export function baseUrls(origin: string): { openai: string; anthropic: string } {
  const bare = origin.replace(/\/+$/, '');
  return { openai: `${bare}/v1`, anthropic: bare };
}

export type SnippetLanguage = 'curl' | 'python' | 'javascript';
export const SNIPPET_LANGUAGES: SnippetLanguage[] = ['curl', 'python', 'javascript'];

/** A chat completion against this gateway, ready to paste (the key is the real secret or a placeholder). */
export function chatSnippet(language: SnippetLanguage, origin: string, key: string, model: string): string {
  const { openai } = baseUrls(origin);
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello!' }] });
  switch (language) {
    case 'curl':
      return [
        `curl ${openai}/chat/completions \\`,
        `  -H "Authorization: Bearer ${key}" \\`,
        `  -H "Content-Type: application/json" \\`,
        `  -d '${body}'`,
      ].join('\n');
    case 'python':
      return [
        'from openai import OpenAI',
        '',
        `client = OpenAI(base_url="${openai}", api_key="${key}")`,
        'reply = client.chat.completions.create(',
        `    model="${model}",`,
        '    messages=[{"role": "user", "content": "Hello!"}],',
        ')',
        'print(reply.choices[0].message.content)',
      ].join('\n');
    case 'javascript':
      return [
        "import OpenAI from 'openai';",
        '',
        `const client = new OpenAI({ baseURL: '${openai}', apiKey: '${key}' });`,
        'const reply = await client.chat.completions.create({',
        `  model: '${model}',`,
        "  messages: [{ role: 'user', content: 'Hello!' }],",
        '});',
        'console.log(reply.choices[0].message.content);',
      ].join('\n');
  }
}

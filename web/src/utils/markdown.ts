/**
 * Markdown for model answers: markdown-it with raw HTML off (answers are untrusted), bare URLs linked,
 * links opened in a new tab, and fenced code highlighted by highlight.js (core + a handful of languages,
 * to keep the bundle small) inside a block with the language name and a copy button.
 */
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdownLang from 'highlight.js/lib/languages/markdown';
import plaintext from 'highlight.js/lib/languages/plaintext';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import shell from 'highlight.js/lib/languages/shell';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import MarkdownIt from 'markdown-it';

const languages = {
  bash,
  c,
  cpp,
  css,
  diff,
  go,
  java,
  javascript,
  json,
  markdown: markdownLang,
  plaintext,
  python,
  rust,
  shell,
  sql,
  typescript,
  xml,
  yaml,
};
for (const [name, language] of Object.entries(languages)) hljs.registerLanguage(name, language);
hljs.registerAliases(['sh', 'zsh', 'console'], { languageName: 'bash' });
hljs.registerAliases(['text', 'txt'], { languageName: 'plaintext' });

/** What the caller passes to render(): words for the copy button (the page's language). */
export interface MarkdownEnv {
  copyLabel?: string;
}

const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function highlight(code: string, lang: string): string {
  if (lang && hljs.getLanguage(lang)) {
    try {
      return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
    } catch {
      // fall through to plain text
    }
  }
  return escapeHtml(code);
}

const md = new MarkdownIt({ html: false, linkify: true, breaks: false, typographer: false });
md.linkify.set({ fuzzyEmail: false });

md.renderer.rules.fence = (tokens, idx, _options, env) => {
  const token = tokens[idx];
  if (!token) return '';
  const info = token.info ? md.utils.unescapeAll(token.info).trim() : '';
  const lang = (info.split(/\s+/)[0] ?? '').toLowerCase();
  const known = lang !== '' && hljs.getLanguage(lang) !== undefined;
  const copyLabel = (env as MarkdownEnv | undefined)?.copyLabel;
  const label = escapeHtml(typeof copyLabel === 'string' ? copyLabel : 'Copy');
  return (
    '<div class="md-code">' +
    `<div class="md-code-head"><span class="md-code-lang">${escapeHtml(lang)}</span>` +
    `<button type="button" class="md-copy" aria-label="${label}">${label}</button></div>` +
    `<pre><code class="hljs${known ? ` language-${escapeHtml(lang)}` : ''}">` +
    `${highlight(token.content, known ? lang : '')}</code></pre>` +
    '</div>\n'
  );
};

md.renderer.rules.code_block = (tokens, idx) =>
  `<pre><code class="hljs">${escapeHtml(tokens[idx]?.content ?? '')}</code></pre>\n`;

const defaultLinkOpen: NonNullable<typeof md.renderer.rules.link_open> =
  md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));

md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  const token = tokens[idx];
  if (token) {
    token.attrSet('target', '_blank');
    token.attrSet('rel', 'noopener noreferrer');
  }
  return defaultLinkOpen(tokens, idx, options, env, self);
};

/** Markdown → safe HTML (raw HTML in the source is shown as text). */
export function renderMarkdown(source: string, env: MarkdownEnv = {}): string {
  return md.render(source, { ...env });
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const LIST_OR_INDENT = /^(?:[ \t]|[-*+][ \t]|\d{1,9}[.)][ \t])/;

/**
 * Where a growing (streamed) Markdown text can be cut so that the part before will render the same whatever
 * comes next: after a blank line, outside a code fence, where the next line has begun and neither continues a
 * list nor is indented. Scans `text` from `from` (which must itself be such a cut, or 0) and returns the last
 * cut found, or `from` when there is none. Cost is linear in the scanned part.
 */
export function stableCut(text: string, from = 0): number {
  let cut = from;
  let fence: { char: string; length: number } | null = null;
  let previousBlank = false;
  let pos = from;
  while (pos < text.length) {
    const end = text.indexOf('\n', pos);
    // The last line is still being written: it cannot start a block yet (we do not know what it is).
    if (end === -1) break;
    const line = text.slice(pos, end);
    const blank = line.trim() === '';
    if (fence) {
      const close = FENCE.exec(line);
      if (close?.[1] && close[1][0] === fence.char && close[1].length >= fence.length && line.trim() === close[1]) {
        fence = null;
      }
    } else {
      if (previousBlank && !blank && !LIST_OR_INDENT.test(line)) cut = pos;
      const open = FENCE.exec(line);
      if (open?.[1]) fence = { char: open[1][0] ?? '`', length: open[1].length };
    }
    previousBlank = blank && !fence;
    pos = end + 1;
  }
  return cut;
}

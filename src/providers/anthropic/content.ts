/**
 * OpenAI message content → Anthropic content blocks (text, image, document).
 * Reference: PROTOCOLS.md §1.2 content parts, §3.2 request content blocks, §6.3 item 14 (images).
 */
import { UnsupportedRequestError } from '../shared/request-error.js';
import type { ChatContentPart } from '../types.js';
import { isRecord, readRecord, readString, type UnknownRecord } from './read-json.js';
import type {
  AnthropicCacheControl,
  AnthropicDocumentBlock,
  AnthropicImageBlock,
  AnthropicTextBlock,
} from './types.js';

export type AnthropicMediaBlock = AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock;

/** A base64 data URL split into its media type and payload. */
export interface DataUrl {
  mediaType: string;
  data: string;
}

const DATA_URL = /^data:([^;,]+)((?:;[^;,]+)*);base64,(.*)$/s;

/** Parses `data:<media>[;param…];base64,<data>`; anything else (including non-base64 data URLs) is undefined. */
export function parseDataUrl(url: string): DataUrl | undefined {
  const match = DATA_URL.exec(url);
  if (!match) return undefined;
  return { mediaType: (match[1] ?? '').toLowerCase(), data: match[3] ?? '' };
}

function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/**
 * OpenAI's 2026 SDK lets any part carry `prompt_cache_breakpoint`; Anthropic's equivalent is an
 * ephemeral `cache_control` on the block.
 */
function cacheControlOf(part: UnknownRecord): { cache_control?: AnthropicCacheControl } {
  return isRecord(part.prompt_cache_breakpoint) ? { cache_control: { type: 'ephemeral' } } : {};
}

function imageBlock(part: UnknownRecord): AnthropicImageBlock {
  const imageUrl = readRecord(part, 'image_url');
  const url = imageUrl ? readString(imageUrl, 'url') : undefined;
  if (url === undefined) throw new UnsupportedRequestError('image_url part without a url', { param: 'messages' });
  const dataUrl = parseDataUrl(url);
  if (dataUrl) {
    return {
      type: 'image',
      source: { type: 'base64', media_type: dataUrl.mediaType, data: dataUrl.data },
      ...cacheControlOf(part),
    };
  }
  if (isHttpUrl(url)) return { type: 'image', source: { type: 'url', url }, ...cacheControlOf(part) };
  throw new UnsupportedRequestError('Image URLs must be http(s) URLs or base64 data URLs', { param: 'messages' });
}

/** OpenAI `file` parts carry base64 `file_data` (usually a data URL); Anthropic takes it as a document block. */
function documentBlock(part: UnknownRecord): AnthropicDocumentBlock {
  const file = readRecord(part, 'file');
  const fileData = file ? readString(file, 'file_data') : undefined;
  if (fileData === undefined) {
    throw new UnsupportedRequestError(
      'Only file parts with inline file_data can be sent to Anthropic (file_id is OpenAI-specific)',
      {
        param: 'messages',
      },
    );
  }
  const dataUrl = parseDataUrl(fileData) ?? { mediaType: 'application/pdf', data: fileData };
  const title = file ? readString(file, 'filename') : undefined;
  return {
    type: 'document',
    source: { type: 'base64', media_type: dataUrl.mediaType, data: dataUrl.data },
    ...(title ? { title } : {}),
    ...cacheControlOf(part),
  };
}

function partToBlock(part: ChatContentPart): AnthropicMediaBlock | undefined {
  // Parts are open-ended JSON objects; read their fields defensively.
  const record = part as unknown as UnknownRecord;
  switch (part.type) {
    case 'text': {
      const text = readString(record, 'text') ?? '';
      // Anthropic rejects empty text blocks, and an empty part carries nothing.
      return text === '' ? undefined : { type: 'text', text, ...cacheControlOf(record) };
    }
    case 'refusal': {
      const refusal = readString(record, 'refusal') ?? '';
      return refusal === '' ? undefined : { type: 'text', text: refusal };
    }
    case 'image_url':
      return imageBlock(record);
    case 'file':
      return documentBlock(record);
    default:
      throw new UnsupportedRequestError(`Content part type '${part.type}' is not supported by Anthropic models`, {
        param: 'messages',
      });
  }
}

/** Converts message content to Anthropic blocks, dropping empty text. */
export function contentToBlocks(content: string | ChatContentPart[] | null | undefined): AnthropicMediaBlock[] {
  if (content == null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  const blocks: AnthropicMediaBlock[] = [];
  for (const part of content) {
    const block = partToBlock(part);
    if (block) blocks.push(block);
  }
  return blocks;
}

/** Plain text of message content (text and refusal parts joined), for places that only take text. */
export function contentToText(content: string | ChatContentPart[] | null | undefined): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part) => {
      const record = part as unknown as UnknownRecord;
      return (part.type === 'text' || part.type === 'refusal' ? readString(record, part.type) : undefined) ?? '';
    })
    .join('');
}

/**
 * Seconds of audio for per-second billing, when the upstream's answer does not say (OpenAI's
 * `verbose_json` carries `duration`, newer `json` answers `usage: { type: 'duration', seconds }`):
 * the last cue of an SRT/VTT answer, else the file itself — exact for WAV (its header gives the byte
 * rate), else its size at 128 kbit/s (a common MP3/M4A bit rate; compressed files at lower rates are
 * under-counted, so the figure is marked estimated).
 */

/** The end time of the last cue of an SRT or WebVTT text (`00:01:02,500 --> 00:01:04,000`), seconds. */
export function subtitleSeconds(text: string): number | undefined {
  const pattern = /-->\s*(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})/g;
  let last: number | undefined;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const [, h = '0', m = '0', s = '0', ms = '0'] = match;
    last = Number(h) * 3600 + Number(m) * 60 + Number(s) + Number(ms.padEnd(3, '0')) / 1000;
  }
  return last;
}

/** A RIFF/WAVE file's duration from its `fmt ` byte rate and `data` chunk size. */
export function wavSeconds(data: Buffer): number | undefined {
  if (data.length < 12 || data.toString('ascii', 0, 4) !== 'RIFF' || data.toString('ascii', 8, 12) !== 'WAVE')
    return undefined;
  let byteRate = 0;
  let offset = 12;
  while (offset + 8 <= data.length) {
    const id = data.toString('ascii', offset, offset + 4);
    const size = data.readUInt32LE(offset + 4);
    if (id === 'fmt ' && offset + 16 <= data.length) byteRate = data.readUInt32LE(offset + 16);
    if (id === 'data') {
      if (byteRate <= 0) return undefined;
      return Math.min(size, data.length - offset - 8) / byteRate;
    }
    offset += 8 + size + (size % 2);
  }
  return undefined;
}

/** Bytes a second of audio at 128 kbit/s. */
const COMPRESSED_BYTES_PER_SECOND = 16_000;

/** The file's duration in seconds: exact for WAV, else estimated from its size. */
export function fileSeconds(data: Buffer): number {
  return wavSeconds(data) ?? data.length / COMPRESSED_BYTES_PER_SECOND;
}

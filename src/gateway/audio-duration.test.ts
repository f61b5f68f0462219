import { describe, expect, it } from 'vitest';
import { fileSeconds, subtitleSeconds, wavSeconds } from './audio-duration.js';

/** A PCM WAV of `seconds` at 8 kHz, 16-bit mono (16,000 bytes a second). */
function wav(seconds: number): Buffer {
  const dataBytes = Math.round(seconds * 16_000);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(16_000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return Buffer.concat([header, Buffer.alloc(dataBytes)]);
}

describe('audio duration', () => {
  it('reads a WAV header', () => {
    expect(wavSeconds(wav(2.5))).toBe(2.5);
    expect(fileSeconds(wav(1))).toBe(1);
  });

  it('estimates other files at 128 kbit/s', () => {
    expect(wavSeconds(Buffer.from('ID3 not a wav'))).toBeUndefined();
    expect(fileSeconds(Buffer.alloc(32_000))).toBe(2);
  });

  it('takes the end of the last SRT or VTT cue', () => {
    expect(subtitleSeconds('1\n00:00:00,000 --> 00:00:02,500\nHi\n\n2\n00:00:02,500 --> 00:01:04,25\nBye\n')).toBe(
      64.25,
    );
    expect(subtitleSeconds('WEBVTT\n\n00:00.000 --> 00:03.400\nHello\n')).toBe(3.4);
    expect(subtitleSeconds('plain text')).toBeUndefined();
  });
});

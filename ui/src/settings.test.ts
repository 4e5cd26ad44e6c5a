import { describe, expect, it } from 'vitest';
import { readSettings } from './settings';

/** doc is a stand-in for a document holding one meta tag's content (or none). */
function doc(content: string | null): Document {
  return {
    querySelector: () => (content === null ? null : { getAttribute: () => content }),
  } as unknown as Document;
}

describe('readSettings', () => {
  it('reads what the server injected', () => {
    expect(readSettings(doc('{"server_url":"https://crest.example","version":"v1.2.3"}'))).toEqual({ server_url: 'https://crest.example', version: 'v1.2.3' });
  });
  it.each([
    ['no tag', null],
    ['broken JSON', '{"server_url":'],
    ['empty values', '{"server_url":"","version":""}'],
  ])('falls back with %s', (_, content) => {
    const s = readSettings(doc(content));
    expect(s.version).toBe('dev');
    expect(typeof s.server_url).toBe('string');
  });
});

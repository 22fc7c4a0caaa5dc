import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv, parseCsvManifest, parseJsonlManifest, readManifest } from './manifest.js';

describe('batch manifest', () => {
  it('parses JSONL, skipping blank and # lines', () => {
    const rows = parseJsonlManifest('{"prompt":"a red circle","seed":1,"name":"one"}\n\n# comment\n{"prompt":"b","quality":"final","metadata":{"campaign":"x"}}\r\n');
    expect(rows).toEqual([
      { prompt: 'a red circle', seed: 1, name: 'one' },
      { prompt: 'b', quality: 'final', metadata: { campaign: 'x' } },
    ]);
  });

  it('reports the line of a bad JSONL row, with the contract\'s own checks', () => {
    expect(() => parseJsonlManifest('{"prompt":"ok"}\n{"prompt":""}')).toThrow(/line 2: prompt/);
    expect(() => parseJsonlManifest('{"prompt":"ok","quality":"ultra"}')).toThrow(/line 1: quality/);
    expect(() => parseJsonlManifest('{"prompt":"ok","colour":"red"}')).toThrow(/unknown field "colour"/);
    expect(() => parseJsonlManifest('{"prompt":"ok", nope')).toThrow(expect.objectContaining({ code: 'invalid_manifest' }));
    expect(() => parseJsonlManifest(`{"prompt":"${'x'.repeat(501)}"}`)).toThrow(/line 1: prompt/);
  });

  it('parses RFC 4180 CSV: quotes, doubled quotes, commas and newlines in fields, CRLF, BOM', () => {
    expect(parseCsv('\uFEFFa,b\r\n"x, ""y""","multi\nline"\r\nlast,')).toEqual([
      ['a', 'b'],
      ['x, "y"', 'multi\nline'],
      ['last', ''],
    ]);
  });

  it('maps CSV columns, metadata.* columns and numeric seeds to rows', () => {
    const rows = parseCsvManifest('prompt,quality,seed,name,metadata.campaign\n"red, then blue",draft,7,first,spring\nsecond prompt,,,,\n,,,,\n');
    expect(rows).toEqual([
      { prompt: 'red, then blue', quality: 'draft', seed: 7, name: 'first', metadata: { campaign: 'spring' } },
      { prompt: 'second prompt' },
    ]);
    expect(() => parseCsvManifest('prompt,seed\nx,seven\n')).toThrow(/line 2: seed/);
    expect(() => parseCsvManifest('prompt,colour\nx,red\n')).toThrow(/unknown CSV column "colour"/);
  });

  it('hashes the file bytes and picks the parser by extension', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cv-manifest-'));
    try {
      await writeFile(join(dir, 'm.csv'), 'prompt\nhello\n');
      await writeFile(join(dir, 'm.jsonl'), '{"prompt":"hello"}\n');
      const csv = await readManifest(join(dir, 'm.csv'));
      const jsonl = await readManifest(join(dir, 'm.jsonl'));
      expect(csv.rows).toEqual(jsonl.rows);
      expect(csv.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(csv.sha256).not.toBe(jsonl.sha256);
      await writeFile(join(dir, 'empty.jsonl'), '\n');
      await expect(readManifest(join(dir, 'empty.jsonl'))).rejects.toMatchObject({ code: 'invalid_manifest' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

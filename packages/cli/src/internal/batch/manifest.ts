import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { GenerateRequest, type Metadata, type Quality } from '@clickvid/contracts';
import { ClickvidError } from '@clickvid/sdk';

/** One row of a batch manifest. */
export interface ManifestRow {
  prompt: string;
  quality?: Quality | undefined;
  seed?: number | undefined;
  /** Output file name (without .mp4). @defaultValue row-0001, row-0002... */
  name?: string | undefined;
  metadata?: Metadata | undefined;
}

/** The request fields a row may set, checked by the API's own contract (limits included). */
const RowRequest = GenerateRequest.pick({ prompt: true, quality: true, seed: true, metadata: true });
const ROW_KEYS = new Set(['prompt', 'quality', 'seed', 'name', 'metadata']);

export interface Manifest {
  path: string;
  /** sha256 of the file's bytes: part of every row's idempotency key. */
  sha256: string;
  rows: ManifestRow[];
}

/** Read a `.jsonl` (one JSON object a line) or `.csv` manifest. */
export async function readManifest(path: string): Promise<Manifest> {
  const bytes = await readFile(path);
  const text = bytes.toString('utf8');
  const rows = path.toLowerCase().endsWith('.csv') ? parseCsvManifest(text) : parseJsonlManifest(text);
  if (rows.length === 0) throw invalid(`${path} has no rows.`);
  return { path, sha256: createHash('sha256').update(bytes).digest('hex'), rows };
}

export function parseJsonlManifest(text: string): ManifestRow[] {
  const rows: ManifestRow[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw invalid(`line ${i + 1}: not JSON.`);
    }
    rows.push(validate(value, `line ${i + 1}`));
  });
  return rows;
}

/**
 * CSV with a header row: `prompt,quality,seed,name` and any `metadata.<key>`
 * columns. RFC 4180 quoting; empty cells are left out.
 */
export function parseCsvManifest(text: string): ManifestRow[] {
  const [header, ...records] = parseCsv(text);
  if (!header) return [];
  const known = new Set(['prompt', 'quality', 'seed', 'name']);
  for (const col of header) {
    if (!known.has(col) && !col.startsWith('metadata.')) throw invalid(`unknown CSV column "${col}" (use prompt, quality, seed, name, metadata.<key>).`);
  }
  return records
    .map((cells, i) => ({ cells, line: i + 2 }))
    .filter(({ cells }) => cells.some((c) => c.trim() !== ''))
    .map(({ cells, line }) => {
      const row: Record<string, unknown> = {};
      const metadata: Record<string, string> = {};
      header.forEach((col, j) => {
        const cell = cells[j] ?? '';
        if (cell === '') return;
        if (col.startsWith('metadata.')) metadata[col.slice('metadata.'.length)] = cell;
        else if (col === 'seed') row.seed = /^\d+$/.test(cell.trim()) ? Number(cell) : cell;
        else row[col] = cell;
      });
      if (Object.keys(metadata).length > 0) row.metadata = metadata;
      return validate(row, `line ${line}`);
    });
}

/** RFC 4180: quoted fields may hold commas, doubled quotes and newlines. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  if (quoted) throw invalid('unterminated quote in CSV.');
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records.map((r) => r.map((cell) => cell.replace(/^\uFEFF/, '')));
}

function validate(value: unknown, where: string): ManifestRow {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalid(`${where}: a row is a JSON object.`);
  const { name, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(value).find((k) => !ROW_KEYS.has(k));
  if (unknown) throw invalid(`${where}: unknown field "${unknown}" (use prompt, quality, seed, name, metadata).`);
  if (name !== undefined && (typeof name !== 'string' || name.trim() === '')) throw invalid(`${where}: name: expected a non-empty string.`);
  const parsed = RowRequest.safeParse(rest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(`${where}: ${issue.path.join('.') || 'row'}: ${issue.message}`);
  }
  if (!parsed.data.prompt) throw invalid(`${where}: prompt: required.`);
  return { ...parsed.data, prompt: parsed.data.prompt, ...(name !== undefined ? { name: name as string } : {}) };
}

function invalid(message: string): ClickvidError {
  return new ClickvidError(`Invalid manifest: ${message}`, { code: 'invalid_manifest' });
}

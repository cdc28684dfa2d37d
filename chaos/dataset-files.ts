import * as fs from 'fs';
import { prng } from '../libs/random';
import { decimalText } from './dataset-expect';
import { csvRecord } from './expect';

/**
 * The `dataset` chaos scenario's spec and files: a text key, two group-by texts, a numeric, a
 * timestamp, an optional numeric and an optional text; two aggregates, one grouped by two
 * columns. The values are written in many texts of one value (1.50 and 1.5e0, one instant in
 * several offsets, keys and groups with spaces around them), the header in another order and
 * case with a column the spec ignores. Deterministic per seed.
 */
export const CHAOS_DATASET_YAML = `# the dataset chaos scenario's spec (chaos/dataset-files.ts)
name: chaos_events
key: event_id
columns:
  event_id: text
  region: text
  kind: text
  amount: numeric
  happened_at: timestamp
  tip: numeric?
  note: text?
aggregates:
  region_totals:
    group_by: region
    measures:
      events: count
      total_amount: sum(amount)
      first_at: min(happened_at)
      largest_tip: max(tip)
  region_kinds:
    group_by: [region, kind]
    measures:
      events: count
      total_tip: sum(tip)
      smallest_amount: min(amount)
      last_at: max(happened_at)
`;

const HEADER = ['Note', 'KIND', 'happened_at', 'ignored', 'event_id', 'Amount', 'region', 'tip'];
const REGIONS = ['north', 'south', 'east', 'west', 'Zürich', 'São Paulo', '東京', 'a, b "c"', 'x', 'y', 'z', 'centre'];
/** `gift` rows never have a tip: their groups' sum(tip) is NULL */
const KINDS = ['web', 'store', 'phone', 'gift'];
const NOTES = ['plain', '  spaced  ', 'with, comma', 'with "quotes"', 'two\nlines', 'ünïcödé', ' '];

type Random = () => number;
const pick = <T>(rnd: Random, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
const int = (rnd: Random, from: number, to: number) => from + Math.floor(rnd() * (to - from + 1));
const two = (n: number) => String(n).padStart(2, '0');
/** Sometimes with spaces around it: key and group-by texts are trimmed. */
const padded = (rnd: Random, text: string) => (rnd() < 0.05 ? `  ${text} ` : text);

/** A decimal of `cents` in one of its texts: 12.50, 12.500, 1250e-2, 12500E-3, +12.50, .50 */
function decimalIn(rnd: Random, cents: number): string {
  const base = decimalText({ units: BigInt(cents), scale: 2 });
  switch (int(rnd, 0, 5)) {
    case 1:
      return `${base}0`;
    case 2:
      return `${cents}e-2`;
    case 3:
      return `${cents * 10}E-3`;
    case 4:
      return cents >= 0 ? `+${base}` : base;
    case 5:
      return base.replace(/^(-?)0\./, '$1.');
    default:
      return base;
  }
}

/** An instant of 2024 in one of ISO 8601's texts: a date, to the minute, second or microsecond, in UTC or an offset. */
function timestampIn(rnd: Random): string {
  const date = `2024-${two(int(rnd, 1, 12))}-${two(int(rnd, 1, 28))}`;
  const time = `${two(int(rnd, 0, 23))}:${two(int(rnd, 0, 59))}`;
  const seconds = `${time}:${two(int(rnd, 0, 59))}`;
  switch (int(rnd, 0, 6)) {
    case 0:
      return date;
    case 1:
      return `${date} ${time}`;
    case 2:
      return `${date}T${seconds}Z`;
    case 3:
      return `${date}T${seconds}.${String(int(rnd, 0, 999999)).padStart(6, '0')}+05:30`;
    case 4:
      return `${date}T${seconds}-0800`;
    case 5:
      return `${date} ${seconds}.25+02`;
    default:
      return `${date}T${seconds}`;
  }
}

/** One record for `key`, in HEADER's order. */
function record(rnd: Random, key: string): string {
  const kind = pick(rnd, KINDS);
  const tip = kind === 'gift' || rnd() < 0.3 ? '' : decimalIn(rnd, int(rnd, 0, 2000));
  const note = rnd() < 0.4 ? '' : pick(rnd, NOTES);
  const ignored = rnd() < 0.5 ? '' : `ignored ${int(rnd, 0, 99)}`;
  return csvRecord([
    note,
    padded(rnd, kind),
    timestampIn(rnd),
    ignored,
    padded(rnd, key),
    decimalIn(rnd, int(rnd, -5000, 100000)),
    padded(rnd, pick(rnd, REGIONS)),
    tip,
  ]);
}

function writeLines(file: string, header: string[], lines: string[]): void {
  fs.writeFileSync(file, [csvRecord(header), ...lines].join('\n') + '\n');
}

/** The first file: `rows` records of keys ev-0 … (one in ten repeats an earlier key: the later one wins). */
export function writeEventsFile(file: string, rows: number, seed: number): void {
  const rnd = prng(seed);
  const lines: string[] = [];
  let next = 0;
  for (let i = 0; i < rows; i++) {
    const id = next > 0 && rnd() < 0.1 ? int(rnd, 0, next - 1) : next++;
    lines.push(record(rnd, `ev-${id}`));
  }
  writeLines(file, HEADER, lines);
}

/** The second file: `rows` records, most of them new values for keys of `keys` (moving them between groups), some new keys. */
export function writeUpdatesFile(file: string, keys: readonly string[], rows: number, seed: number): void {
  const rnd = prng(seed);
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) lines.push(record(rnd, rnd() < 0.85 ? pick(rnd, keys) : `ev-new-${i}`));
  writeLines(file, HEADER, lines);
}

/**
 * A delete file: every `every`-th key of `keys`, each twice (the second time at the end: a key
 * deleted already changes nothing), some with spaces around them, and keys that were never there.
 * Returns its records' count (one tombstone each).
 */
export function writeKeysFile(file: string, keys: readonly string[], every: number, seed: number): number {
  const rnd = prng(seed);
  const doomed = keys.filter((_, i) => i % every === 0);
  const lines = [
    ...doomed.map((k) => csvRecord([padded(rnd, k), 'ignored'])),
    ...Array.from({ length: 100 }, (_, i) => csvRecord([`ev-never-${i}`, 'never there'])),
    ...doomed.map((k) => csvRecord([k, 'again'])),
  ];
  writeLines(file, ['EVENT_ID', 'comment'], lines);
  return lines.length;
}

import { KafkaMessage } from '../../libs/kafka/port';
import { PoisonMessageError } from '../../libs/errors';

/**
 * What travels on `<ns>.scores` (key = product name) and `<ns>.ad-events` (key = username).
 * JSON values; `at` is when the api received the request (ms since the epoch). A reset travels on
 * the same topic and key as the pushes of its product, so it is ordered exactly with them.
 */
export type ScoreMessage = (
  { type: 'push'; name: string; score: number; username: string | null; at: number } | { type: 'reset'; name: string; username: string | null; at: number }
) &
  Fenced;

/**
 * The request a score message belongs to (apps/api/score-requests.ts): the consumer applies it only
 * if the api has not answered it 503, and only its current attempt. Absent in messages written
 * before it existed: those are applied as they are.
 */
export interface Fenced {
  request?: string;
  attempt?: number;
}

export type AdEventType = 'ad' | 'impression';

export interface AdEventMessage {
  type: AdEventType;
  username: string;
  sdk_version: string;
  session_id: string;
  platform: string;
  country_code: string;
  at: number;
}

/** Characters of a product name: 1,020 UTF-8 bytes at most, within the key limit (libs/db/key-limit.ts). */
export const NAME_MAX = 255;
export const USERNAME_MAX = 64;
export const SCORE_MIN = 0;
export const SCORE_MAX = 5;

export function encode(message: ScoreMessage | AdEventMessage): Buffer {
  return Buffer.from(JSON.stringify(message));
}

/** A decoded scores message with where it sits in its partition. */
export type ScoreItem = ScoreMessage & { offset: bigint };

function parseJson(message: KafkaMessage): Record<string, unknown> {
  if (!message.value) throw new PoisonMessageError('empty message value');
  let value: unknown;
  try {
    value = JSON.parse(message.value.toString('utf8'));
  } catch {
    throw new PoisonMessageError('value is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PoisonMessageError('value is not a JSON object');
  return value as Record<string, unknown>;
}

function text(v: Record<string, unknown>, field: string, max: number): string {
  const s = v[field];
  if (typeof s !== 'string' || s.length === 0 || [...s].length > max) throw new PoisonMessageError(`${field}: expected a string of 1-${max} characters`);
  if (s.includes('\u0000')) throw new PoisonMessageError(`${field}: holds a NUL character`);
  return s;
}

function optionalText(v: Record<string, unknown>, field: string, max: number): string | null {
  return v[field] === undefined || v[field] === null ? null : text(v, field, max);
}

function time(v: Record<string, unknown>): number {
  const at = v.at;
  if (typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0) throw new PoisonMessageError('at: expected milliseconds since the epoch');
  return at;
}

/** A message's request and attempt: both or neither. */
function fenced(v: Record<string, unknown>): Fenced {
  if (v.request === undefined && v.attempt === undefined) return {};
  const request = v.request;
  const attempt = v.attempt;
  if (typeof request !== 'string' || request.length === 0 || request.length > 300)
    throw new PoisonMessageError('request: expected a string of 1-300 characters');
  if (typeof attempt !== 'number' || !Number.isSafeInteger(attempt) || attempt < 1) throw new PoisonMessageError('attempt: expected a positive integer');
  return { request, attempt };
}

export function decodeScore(message: KafkaMessage): ScoreItem {
  const v = parseJson(message);
  const offset = BigInt(message.offset);
  const name = text(v, 'name', NAME_MAX);
  const username = optionalText(v, 'username', USERNAME_MAX);
  const at = time(v);
  const request = fenced(v);
  if (v.type === 'reset') return { type: 'reset', name, username, at, offset, ...request };
  if (v.type !== 'push') throw new PoisonMessageError(`type: expected push or reset, got ${JSON.stringify(v.type)}`);
  const score = v.score;
  if (typeof score !== 'number' || !Number.isFinite(score) || score < SCORE_MIN || score > SCORE_MAX) {
    throw new PoisonMessageError(`score: expected a number from ${SCORE_MIN} to ${SCORE_MAX}`);
  }
  return { type: 'push', name, score, username, at, offset, ...request };
}

export function decodeAdEvent(message: KafkaMessage): AdEventMessage {
  const v = parseJson(message);
  if (v.type !== 'ad' && v.type !== 'impression') throw new PoisonMessageError(`type: expected ad or impression, got ${JSON.stringify(v.type)}`);
  return {
    type: v.type,
    username: text(v, 'username', USERNAME_MAX),
    sdk_version: text(v, 'sdk_version', USERNAME_MAX),
    session_id: text(v, 'session_id', USERNAME_MAX),
    platform: text(v, 'platform', USERNAME_MAX),
    country_code: text(v, 'country_code', 2),
    at: time(v),
  };
}

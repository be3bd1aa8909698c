/**
 * Scans one exposition line. Hand-written over a cursor rather than one big regular expression:
 * every loop advances the cursor, so a line costs time linear in its length whatever it holds,
 * and a bad line reports the column where it went wrong.
 */
import { PromParseError } from './parse-error.ts';
import type { Exemplar, Labels, Sample } from './types.ts';

const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INF = /^[+-]?inf(?:inity)?$/i;
const NAN = /^nan$/i;

const isBlank = (c: number) => c === 32 || c === 9;
const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigit = (c: number) => c >= 48 && c <= 57;

/** Parses a sample value the way the Go exposition parsers do: decimal, exponent, `±Inf`, `NaN`. */
export function parseValue(token: string): number | undefined {
  if (FLOAT.test(token)) return Number(token);
  if (INF.test(token)) return token.startsWith('-') ? -Infinity : Infinity;
  if (NAN.test(token)) return NaN;
  return undefined;
}

/** Whether `name` is a valid metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`; colons are legal, vLLM uses them). */
export function isMetricName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!(isAlpha(c) || c === 58 || (i > 0 && isDigit(c)))) return false;
  }
  return true;
}

/** Whether `name` is a valid label name (`[a-zA-Z_][a-zA-Z0-9_]*`). */
export function isLabelName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!(isAlpha(c) || (i > 0 && isDigit(c)))) return false;
  }
  return true;
}

/** A cursor over one line; `fail` throws with the line number and the 1-based column. */
export class LineCursor {
  pos = 0;
  readonly text: string;
  readonly lineNo: number;
  constructor(text: string, lineNo: number) {
    this.text = text;
    this.lineNo = lineNo;
  }

  get done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): number {
    return this.text.charCodeAt(this.pos);
  }
  fail(message: string): never {
    throw new PromParseError(message, this.lineNo, this.pos + 1);
  }
  skipBlanks(): number {
    const start = this.pos;
    while (this.pos < this.text.length && isBlank(this.text.charCodeAt(this.pos))) this.pos++;
    return this.pos - start;
  }
  /** Reads a run of non-blank characters. */
  token(): string {
    const start = this.pos;
    while (this.pos < this.text.length && !isBlank(this.text.charCodeAt(this.pos))) this.pos++;
    return this.text.slice(start, this.pos);
  }
  /** Reads `[a-zA-Z0-9_:]*` (the caller checks the first character's class). */
  word(allowColon: boolean): string {
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (!(isAlpha(c) || isDigit(c) || (allowColon && c === 58))) break;
      this.pos++;
    }
    return this.text.slice(start, this.pos);
  }
}

/** Reads `"…"` with the escapes `\\`, `\"` and `\n`; any other escape is kept as written. */
function readQuoted(cur: LineCursor): string {
  if (cur.peek() !== 34) cur.fail("expected '\"' to open a label value");
  cur.pos++;
  const { text } = cur;
  let out = '';
  let chunk = cur.pos;
  while (cur.pos < text.length) {
    const c = text.charCodeAt(cur.pos);
    if (c === 34) {
      out += text.slice(chunk, cur.pos);
      cur.pos++;
      return out;
    }
    if (c === 92) {
      out += text.slice(chunk, cur.pos);
      const next = text.charCodeAt(cur.pos + 1);
      if (Number.isNaN(next)) break;
      out += next === 110 ? '\n' : next === 92 ? '\\' : next === 34 ? '"' : `\\${text.charAt(cur.pos + 1)}`;
      cur.pos += 2;
      chunk = cur.pos;
      continue;
    }
    cur.pos++;
  }
  return cur.fail('unterminated label value');
}

/** Reads `{name="value",…}` (blanks and a trailing comma tolerated); the cursor is on `{`. */
export function readLabels(cur: LineCursor): Labels {
  cur.pos++;
  const labels: Labels = {};
  for (;;) {
    cur.skipBlanks();
    if (cur.done) cur.fail('unterminated label set');
    if (cur.peek() === 125) break;
    if (!isAlpha(cur.peek())) cur.fail('expected a label name');
    const name = cur.word(false);
    cur.skipBlanks();
    if (cur.peek() !== 61) cur.fail(`expected '=' after label name "${name}"`);
    cur.pos++;
    cur.skipBlanks();
    const value = readQuoted(cur);
    if (Object.hasOwn(labels, name)) cur.fail(`duplicate label "${name}"`);
    // defineProperty, not assignment: `labels.__proto__ = v` would silently drop the label.
    if (name === '__proto__')
      Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true });
    else labels[name] = value;
    cur.skipBlanks();
    const c = cur.peek();
    if (c === 44) {
      cur.pos++;
      continue;
    }
    if (c === 125) break;
    cur.fail("expected ',' or '}' in label set");
  }
  cur.pos++;
  return labels;
}

function readNumber(cur: LineCursor, what: string): number {
  const start = cur.pos;
  const token = cur.token();
  const value = parseValue(token);
  if (value === undefined) {
    cur.pos = start;
    cur.fail(token.length === 0 ? `missing ${what}` : `invalid ${what} "${token.slice(0, 40)}"`);
  }
  return value;
}

/**
 * Reads a timestamp as Unix milliseconds. Text format writes milliseconds; OpenMetrics writes
 * seconds, kept to the microsecond so that `ms / 1000` written out reads back as the same `ms`.
 */
function readTimestamp(cur: LineCursor, seconds: boolean): number {
  const value = readNumber(cur, 'timestamp');
  const ms = seconds ? Math.round(value * 1e6) / 1e3 : value;
  if (!Number.isFinite(ms)) cur.fail('timestamp must be a finite number');
  return ms;
}

function readExemplar(cur: LineCursor): Exemplar {
  cur.pos++; // '#'
  cur.skipBlanks();
  if (cur.peek() !== 123) cur.fail("expected '{' to open an exemplar");
  const labels = readLabels(cur);
  cur.skipBlanks();
  const value = readNumber(cur, 'exemplar value');
  const exemplar: Exemplar = { labels, value };
  cur.skipBlanks();
  if (!cur.done) exemplar.timestamp = readTimestamp(cur, true);
  cur.skipBlanks();
  if (!cur.done) cur.fail('unexpected text after exemplar');
  return exemplar;
}

/**
 * Parses `name[{labels}] value [timestamp] [# {labels} value [timestamp]]` (leading blanks already
 * skipped). `secondsTimestamps` is true for OpenMetrics (seconds), false for text format (milliseconds).
 */
export function scanSample(cur: LineCursor, secondsTimestamps: boolean): Sample {
  const c0 = cur.peek();
  if (!(isAlpha(c0) || c0 === 58)) cur.fail('expected a metric name');
  const name = cur.word(true);
  let gap = cur.skipBlanks();
  let labels: Labels = {};
  if (cur.peek() === 123) {
    labels = readLabels(cur);
    gap = 1 + cur.skipBlanks(); // the closing brace already separates labels from the value
  }
  if (gap === 0 && !cur.done) cur.fail(`unexpected character after metric name "${name.slice(0, 60)}"`);
  const sample: Sample = { name, labels, value: readNumber(cur, 'value') };
  // `token()` stops only at a blank or the end, so after a token either blanks follow or the line is done.
  cur.skipBlanks();
  if (cur.done) return sample;
  if (cur.peek() !== 35) {
    sample.timestamp = readTimestamp(cur, secondsTimestamps);
    cur.skipBlanks();
    if (cur.done) return sample;
  }
  if (cur.peek() !== 35) cur.fail('unexpected text after sample');
  sample.exemplar = readExemplar(cur);
  return sample;
}

/** Unescapes HELP text: `\\` and `\n` (text format), and `\"` (OpenMetrics). */
export function unescapeHelp(raw: string): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  let chunk = 0;
  for (let i = raw.indexOf('\\'); i !== -1 && i + 1 < raw.length; i = raw.indexOf('\\', i)) {
    out += raw.slice(chunk, i);
    const next = raw.charAt(i + 1);
    out += next === 'n' ? '\n' : next === '\\' || next === '"' ? next : `\\${next}`;
    i += 2;
    chunk = i;
  }
  return out + raw.slice(chunk);
}

/** Deeper than any config or command body coldgate defines (a config is about 6 levels). */
export const MAX_JSON_DEPTH = 64;

/**
 * JSON as people save it: a leading byte order mark (Notepad, some Windows editors) is dropped,
 * and a syntax error says line and column but never quotes the text, which may hold a password
 * (V8's own message does: `Unexpected token 'h', ..."password": hunter2}" is not valid JSON`).
 * The message reads after "is": `payload is ${err.message}`.
 */
export class JsonTextError extends Error {
  override name = 'JsonTextError';
  constructor(
    readonly line: number,
    readonly column: number,
    readonly reason: string,
    message = `not valid JSON at line ${line}, column ${column}: ${reason}`,
  ) {
    super(message);
  }
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function lineAndColumn(text: string, offset: number): [number, number] {
  const upTo = text.slice(0, offset);
  return [upTo.split('\n').length, offset - upTo.lastIndexOf('\n')];
}

/**
 * Parses `text`, refusing nesting deeper than `maxDepth`: a body nested thousands of levels deep
 * would otherwise end in "Maximum call stack size exceeded" in whatever walks it next
 * (validation, cloning).
 */
export function parseJsonText(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  const body = stripBom(text);
  const tooDeep = tooDeepAt(body, maxDepth);
  if (tooDeep !== undefined) {
    const [line, column] = lineAndColumn(body, tooDeep);
    throw new JsonTextError(line, column, `nested deeper than ${maxDepth} levels`, `nested deeper than ${maxDepth} levels`);
  }
  try {
    return JSON.parse(body) as unknown;
  } catch (err) {
    const message = (err as Error).message;
    const offset = positionOf(message) ?? (/end of JSON input/.test(message) ? body.length : firstBadOffset(body));
    const [line, column] = lineAndColumn(body, offset);
    throw new JsonTextError(line, column, reasonOf(message));
  }
}

/**
 * Where the nesting first goes past `limit`, counted without recursion (brackets inside strings
 * do not count; invalid JSON is for JSON.parse to report): `[[1]]` with limit 1 -> 1.
 */
function tooDeepAt(text: string, limit: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}

function positionOf(message: string): number | undefined {
  const at = / at position (\d+)/.exec(message)?.[1];
  return at === undefined ? undefined : Number(at);
}

/** V8's reason without its quote of the text: `Expected ',' or '}' after property value`. */
function reasonOf(message: string): string {
  if (/^Unexpected token|is not valid JSON$/.test(message)) return 'unexpected character';
  const reason = message.replace(/ (in JSON )?at position \d+[\s\S]*$/, '');
  return reason.charAt(0).toLowerCase() + reason.slice(1);
}

/** Does this prefix fail before its end, i.e. not only because the document goes on? */
function failsInside(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return false;
  } catch (err) {
    const message = (err as Error).message;
    if (/end of JSON input/.test(message)) return false;
    const at = positionOf(message);
    return at === undefined || at < prefix.length;
  }
}

/**
 * Where a message without a position went wrong: the shortest prefix that fails before its end
 * ends just after the bad character (a longer prefix fails there too, a shorter one does not).
 * `{"a":tru}` -> 8, the `}`.
 */
function firstBadOffset(text: string): number {
  let lo = 1;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (failsInside(text.slice(0, mid))) hi = mid;
    else lo = mid + 1;
  }
  return lo - 1;
}

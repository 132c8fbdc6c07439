// Console output of `npm start`: its own messages, service lines with a `[name]` prefix, and pino JSON lines
// made readable when a person is watching (stdout is a TTY).

const useColour =
  process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0'
    ? true
    : Boolean(process.stdout.isTTY) && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';

const codes = {
  reset: 0,
  bold: 1,
  dim: 2,
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  brightBlue: 94,
};

/** Wraps text in an ANSI colour when colour is on. */
export function paint(colour, text) {
  return useColour ? `\u001B[${codes[colour]}m${text}\u001B[0m` : text;
}

/** Text without ANSI colour codes, to measure its width. */
export function plain(text) {
  return text.replaceAll(/\u001B\[\d+m/g, '');
}

/** Messages of the start script itself, prefixed `[start]`. */
export const say = {
  info: (message) => process.stdout.write(`${paint('bold', '[start]')} ${message}\n`),
  ok: (message) => process.stdout.write(`${paint('bold', '[start]')} ${paint('green', '✔')} ${message}\n`),
  warn: (message) => process.stderr.write(`${paint('bold', '[start]')} ${paint('yellow', '!')} ${message}\n`),
  error: (message) => process.stderr.write(`${paint('bold', '[start]')} ${paint('red', '✖')} ${message}\n`),
};

const levelNames = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const levelColours = {
  trace: 'dim',
  debug: 'dim',
  info: 'green',
  warn: 'yellow',
  error: 'red',
  fatal: 'magenta',
};
const hiddenKeys = new Set(['time', 'level', 'msg', 'service', 'pid', 'hostname', 'err', 'error']);

function clock(time) {
  const date = new Date(time ?? Date.now());
  if (Number.isNaN(date.getTime())) {
    return String(time);
  }
  const pad = (value, width = 2) => String(value).padStart(width, '0');

  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function fieldText(value) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);

  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** The human form of one pino JSON line (`time level msg key=value…`), or undefined when it is not one. */
export function prettyPino(line) {
  if (!line.startsWith('{')) {
    return undefined;
  }
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (entry === null || typeof entry !== 'object' || entry.level === undefined) {
    return undefined;
  }
  const level =
    typeof entry.level === 'number' ? (levelNames[entry.level] ?? String(entry.level)) : entry.level;
  const fields = Object.entries(entry)
    .filter(([key]) => !hiddenKeys.has(key))
    .map(([key, value]) => `${key}=${fieldText(value)}`)
    .join(' ');
  const error = entry.err ?? entry.error;
  const stack = error && typeof error === 'object' ? (error.stack ?? error.message) : undefined;
  const head = [
    paint('dim', clock(entry.time)),
    paint(levelColours[level] ?? 'reset', String(level).toUpperCase().padEnd(5)),
    entry.msg ?? '',
    fields ? paint('dim', fields) : '',
  ]
    .filter((part) => part !== '')
    .join(' ');

  return stack ? `${head}\n${String(stack)}` : head;
}

// No red: it would read as an error.
const serviceColours = ['cyan', 'magenta', 'blue', 'yellow', 'green', 'brightBlue'];

/** A writer of one process's lines with a fixed-width coloured `[name]` prefix. */
export function prefixer(name, index, width) {
  const label = paint(serviceColours[index % serviceColours.length], `[${name}]`.padEnd(width + 2));
  const pretty = Boolean(process.stdout.isTTY);

  const format = (line) => {
    const text = (pretty && prettyPino(line)) || line;

    return text
      .split('\n')
      .map((part) => `${label} ${part}`)
      .join('\n');
  };

  return {
    format,
    out: (line) => process.stdout.write(`${format(line)}\n`),
    err: (line) => process.stderr.write(`${format(line)}\n`),
  };
}

/** Prints lines in a box. */
export function box(lines) {
  const width = Math.max(...lines.map((line) => plain(line).length));
  const rule = '─'.repeat(width + 2);
  const body = lines.map((line) => `│ ${line}${' '.repeat(width - plain(line).length)} │`);
  process.stdout.write(`\n┌${rule}┐\n${body.join('\n')}\n└${rule}┘\n\n`);
}

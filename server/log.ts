// The server's logger: one timestamped line per event, filtered by LOG_LEVEL.
import { LOG_LEVELS, type LogLevel } from './config.ts';

export interface Logger {
  debug(line: string): void;
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
}

export function createLogger(level: LogLevel): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const at = (l: LogLevel, write: (s: string) => void) => (line: string) => {
    if (LOG_LEVELS.indexOf(l) >= min) write(`${new Date().toISOString()} ${l} ${line}`);
  };
  return {
    debug: at('debug', console.log),
    info: at('info', console.log),
    warn: at('warn', console.error),
    error: at('error', console.error),
  };
}

/** Client-chosen ids go into log lines: keep them on one line and bounded. */
export function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

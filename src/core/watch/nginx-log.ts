/**
 * nginx access logs: the `combined` format parsed line by line, and a follower that reads what
 * was appended since the last look, surviving rotation (the file replaced: the old one is read
 * to its end first) and truncation (copytruncate: start again at the top).
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

/** One request as watch needs it. */
export interface RequestEvent {
  /** Epoch milliseconds (the log's own time stamp, or when a probe ran). */
  at: number;
  /** HTTP status; null when no answer came (a probe that failed to connect). */
  status: number | null;
  /** Seconds → ms, when the log format carries $request_time (or the probe measured it). */
  latencyMs?: number;
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

// $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" [extra]
const COMBINED = /^\S+ \S+ \S+ \[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})\] "(?:[^"\\]|\\.)*" (\d{3}) (?:\d+|-)(?: "(?:[^"\\]|\\.)*" "(?:[^"\\]|\\.)*")?(.*)$/;

/** `10/Oct/2000:13:55:36 -0700` fields → epoch ms. */
function timeOf(m: RegExpExecArray): number {
  const utc = Date.UTC(Number(m[3]), MONTHS[m[2]!] ?? 0, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  const offsetMin = (Number(m[8]) * 60 + Number(m[9])) * (m[7] === '-' ? -1 : 1);
  return utc - offsetMin * 60_000;
}

/**
 * A combined-format line → event; null for a line that is not one (logged, not fatal). A
 * trailing `$request_time` (a bare number, or `rt=`/`request_time=`), as many setups append, gives the latency.
 */
export function parseCombinedLine(line: string): RequestEvent | null {
  const m = COMBINED.exec(line.trim());
  if (!m) return null;
  const event: RequestEvent = { at: timeOf(m), status: Number(m[10]) };
  const extra = /(?:^|\s)(?:rt=|request_time=)?(\d+(?:\.\d+)?)(?:\s|$)/.exec(m[11] ?? '');
  if (extra) event.latencyMs = Number(extra[1]) * 1000;
  return event;
}

/** Format an event as a combined log line (tests and `watch` demos write logs with it). */
export function formatCombinedLine(event: RequestEvent, path = '/rest/v1/posts'): string {
  const d = new Date(event.at);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const month = Object.keys(MONTHS)[d.getUTCMonth()];
  const stamp = `${pad(d.getUTCDate())}/${month}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
  const rt = event.latencyMs === undefined ? '' : ` ${(event.latencyMs / 1000).toFixed(3)}`;
  return `203.0.113.5 - - [${stamp}] "GET ${path} HTTP/1.1" ${event.status ?? 502} 512 "-" "offramp-test"${rt}`;
}

const CHUNK = 1 << 20;

/** Follows one log file by path. Call `read()` on every tick; it returns the complete new lines. */
export class LogFollower {
  private handle: FileHandle | null = null;
  private ino = -1;
  private offset = 0;
  private partial = '';
  /** Keeps a UTF-8 character cut by a read boundary for the next read. */
  private decoder = new StringDecoder('utf8');

  /** fromStart: read what the file already holds; otherwise start at its current end. */
  constructor(readonly path: string, private readonly fromStart = false) {}

  async read(): Promise<string[]> {
    const lines: string[] = [];
    const current = await stat(this.path).catch(() => null);
    if (this.handle && (!current || current.ino !== this.ino)) {
      // Rotated (renamed away, maybe a new file in its place): finish the old file first.
      lines.push(...(await this.drain()));
      await this.handle.close();
      this.handle = null;
      this.partial = '';
      this.decoder = new StringDecoder('utf8');
    }
    if (!current) return lines;
    if (!this.handle) {
      const first = this.ino === -1;
      this.handle = await open(this.path, 'r');
      this.ino = current.ino;
      this.offset = first && !this.fromStart ? current.size : 0;
    }
    if (current.size < this.offset) {
      // Truncated in place (copytruncate): what is there now is new.
      this.offset = 0;
      this.partial = '';
      this.decoder = new StringDecoder('utf8');
    }
    lines.push(...(await this.drain()));
    return lines;
  }

  private async drain(): Promise<string[]> {
    const lines: string[] = [];
    const buf = Buffer.alloc(CHUNK);
    for (;;) {
      const { bytesRead } = await this.handle!.read(buf, 0, CHUNK, this.offset);
      if (bytesRead === 0) break;
      this.offset += bytesRead;
      const text = this.partial + this.decoder.write(buf.subarray(0, bytesRead));
      const parts = text.split('\n');
      this.partial = parts.pop() ?? '';
      lines.push(...parts.filter((l) => l.trim() !== ''));
    }
    return lines;
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
  }
}

/**
 * Child processes of the benchmark: spawned through `sh` so the file-descriptor
 * limit can be raised (10k subscriptions = 20k sockets in a gateway) and the
 * process pinned to a core with `taskset`, then `exec`ed so the pid is node's.
 * They talk over IPC; CPU time and RSS come from /proc/<pid>/stat.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

const live = new Set<ChildProcess>();

/** Kills every child still running (SIGKILL: nothing of theirs needs flushing). */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

const hasTaskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;

export interface Child {
  readonly pid: number;
  /** The child's first IPC message (`{ ready: true, ... }`). */
  readonly hello: Record<string, unknown>;
  /** Sends `{ cmd, ...args }` and resolves with the reply's `result` (or the reply itself). */
  request<T = any>(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Kills the process and waits for it to exit. */
  kill(): Promise<void>;
}

let nextId = 1;

export interface ChildOptions {
  /** The CPU to pin it to (with `taskset`). */
  cpu?: number;
  /** The file-descriptor limit. @default 65536 */
  nofile?: number;
  nodeArgs?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** A file its stdout is appended to (e.g. a server's log lines), instead of ours. */
  stdout?: string;
}

export async function startChild(file: string, args: string[], options: ChildOptions = {}): Promise<Child> {
  const pin = hasTaskset && options.cpu !== undefined ? `taskset -c ${options.cpu} ` : '';
  const nofile = options.nofile ?? 65536;
  const script = `ulimit -n ${nofile} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${pin}"$0" "$@"`;
  const out = options.stdout === undefined ? 'inherit' : openSync(options.stdout, 'a');
  const child = spawn('sh', ['-c', script, process.execPath, ...(options.nodeArgs ?? []), file, ...args], {
    stdio: ['ignore', out, 'inherit', 'ipc'],
    env: { ...process.env, NODE_NO_WARNINGS: '1', ...options.env },
  });
  if (typeof out === 'number') closeSync(out);
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));
  const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file}: no ready message within 30 s`)), 30_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as Record<string, unknown>);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited (${code}) before it was ready`));
    });
  });
  const replies = new Map<number, (m: any) => void>();
  child.on('message', (m: any) => replies.get(m?.reply)?.(m));
  return {
    pid: child.pid!,
    hello,
    request: (cmd, extra = {}, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          replies.delete(id);
          reject(new Error(`${file}: no reply to ${cmd} within ${timeoutMs} ms`));
        }, timeoutMs);
        const onExit = () => reject(new Error(`${file} exited during ${cmd}`));
        child.once('exit', onExit);
        replies.set(id, (m) => {
          clearTimeout(timer);
          replies.delete(id);
          child.off('exit', onExit);
          if (m.error) reject(new Error(`${file}: ${m.error}`));
          else resolve(m.result ?? m);
        });
        child.send({ cmd, id, ...extra });
      }),
    /** Asks the child to exit by closing its IPC channel (so --cpu-prof can write), SIGKILL after 5 s. */
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        if (child.connected) child.disconnect();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

const TICK = 100; // USER_HZ: Linux reports utime/stime in 1/100 s.
const PAGE = 4096;

/** CPU seconds (utime + stime) and RSS bytes of a process, from /proc/<pid>/stat (Linux). */
export function procStat(pid: number): { cpu: number; rss: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { cpu: (Number(f[11]) + Number(f[12])) / TICK, rss: Number(f[21]) * PAGE };
}

export const pinned = hasTaskset;

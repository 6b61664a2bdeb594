/**
 * Resume's ids and bindings (docs/resume.md), runtime-neutral (Web Crypto).
 *
 * - An event id is its hub's **epoch** (128 random bits, base64url, 22
 *   characters) followed by the frame's sequence number in base 36. The epoch
 *   is the secret: it cannot be guessed, and it names one upstream
 *   subscription of one process (or Durable Object), so an id from before a
 *   restart, or from another process, names nothing and is a gap.
 * - A hub that keeps frames for resuming clients carries a **binding**: a
 *   digest of the operation, its coerced variables, and who is asking (the
 *   exact upstream connection: `connection_init` payload and upgrade headers;
 *   or the `subject` the `connectionParams` hook declared, which survives a
 *   credential's rotation). A resume is honoured only when the new request's
 *   binding equals the hub's: an id presented with other credentials,
 *   another operation or other variables is a gap, never a replay.
 *
 * Nothing is signed: the hub lives in the process that answers, so looking the
 * epoch up and comparing bindings is the check, with no per-event work.
 */
import { sha256Text } from '../operations/safelist.ts';
import { canonicalJson } from './key.ts';

/** What resuming keeps (the gateway's `resume…` options; all three set when resume is on). */
export interface ResumeSettings {
  /** How long a departed client's place is kept, in milliseconds (`RESUME_WINDOW_MS`); > 0. */
  readonly windowMs: number;
  /** Most frames an upstream subscription keeps for resuming clients (`RESUME_MAX_EVENTS`). */
  readonly maxEvents: number;
  /** Most bytes an upstream subscription keeps for resuming clients (`RESUME_MAX_BYTES`). */
  readonly maxBytes: number;
}

/** Characters of an epoch: 16 random bytes in unpadded base64url. */
export const EPOCH_LENGTH = 22;
/** The longest id read (an epoch and a sequence number up to 2^53 in base 36); longer is a gap, never parsed. */
export const MAX_ID_LENGTH = EPOCH_LENGTH + 11;

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const EPOCH = /^[A-Za-z0-9_-]{22}$/;
const SEQ = /^(0|[1-9a-z][0-9a-z]*)$/;

/** A fresh epoch: 128 bits from `random` (Web Crypto's by default), as unpadded base64url. */
export function newEpoch(random: (bytes: Uint8Array<ArrayBuffer>) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  const bytes = random(new Uint8Array(16));
  let out = '';
  for (let i = 0; i < 16; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += BASE64URL[(n >> 18) & 63]! + BASE64URL[(n >> 12) & 63]!;
    if (i + 1 < 16) out += BASE64URL[(n >> 6) & 63]!;
    if (i + 2 < 16) out += BASE64URL[n & 63]!;
  }
  return out;
}

/** The id of frame `seq` of the hub with this epoch. */
export const eventId = (epoch: string, seq: number): string => epoch + seq.toString(36);

/** An id taken apart, or `undefined` for anything that is not one of ours (a gap, never an error). */
export function parseEventId(id: string): { epoch: string; seq: number } | undefined {
  if (id.length <= EPOCH_LENGTH || id.length > MAX_ID_LENGTH) return undefined;
  const epoch = id.slice(0, EPOCH_LENGTH);
  const rest = id.slice(EPOCH_LENGTH);
  if (!EPOCH.test(epoch) || !SEQ.test(rest)) return undefined;
  const seq = parseInt(rest, 36);
  return Number.isSafeInteger(seq) ? { epoch, seq } : undefined;
}

/**
 * The id a request resumes from: the `Last-Event-ID` header (what EventSource
 * sends when it reconnects) over the `lastEventId` query parameter (a first
 * connection continuing a page rendered on the server: the URL keeps it, so
 * on EventSource's own reconnects the header, newer, wins). `undefined` when
 * neither is given; an empty value is none.
 */
export function requestedEventId(request: Request): string | undefined {
  const header = request.headers.get('last-event-id');
  if (header !== null && header !== '') return header;
  const url = request.url;
  if (!url.includes('lastEventId=')) return undefined;
  const param = new URL(url).searchParams.get('lastEventId');
  return param === null || param === '' ? undefined : param;
}

/** Who a resumable stream belongs to: the exact upstream connection (its socket key), or the hook's declared subject. */
export type ResumeOwner = { socketKey: string } | { subject: string };

/** The binding a resumable hub keeps and a resuming request must match. */
export function resumeBinding(owner: ResumeOwner, operationId: string, coercedVariables: Record<string, unknown>): Promise<string> {
  const who = 'subject' in owner ? `subject\n${owner.subject}` : `socket\n${owner.socketKey}`;
  return sha256Text(`subway/resume\n${who}\n${operationId}\n${canonicalJson(coercedVariables)}`);
}

/** The result JSON of the event that says events were missed: an ordinary result without data to unmodified clients. */
export const GAP_RESULT = '{"extensions":{"subway":{"gap":true}}}';

/** The `Subway-Resume` response header: the events after the given id follow, or they could not be. */
export const RESUME_HEADER = 'subway-resume';

/**
 * The notes of a capture read back: what its reader should know, each said once, and a
 * bounded number of them (a capture with a hole in every connection says so without
 * saying it a million times). Packets that are not TCP are counted, said at the end.
 */
import { LINK_TYPES, type NotASegment } from './tcp-segments.js';

/** Most notes kept; beyond, they are counted. */
const MAX_NOTES = 100;

export class CaptureNotes {
  private readonly texts = new Set<string>();
  private more = 0;
  private readonly packets = new Map<string, number>();

  add(text: string): void {
    if (this.texts.has(text)) return;
    if (this.texts.size < MAX_NOTES) this.texts.add(text);
    else this.more++;
  }

  /** A packet that is not a TCP segment, and why. */
  skipped(why: NotASegment, linkType: number): void {
    const key = why === 'link type' ? `link type ${linkType}` : why;
    this.packets.set(key, (this.packets.get(key) ?? 0) + 1);
  }

  list(): string[] {
    const out = [...this.texts];
    if (this.more > 0) out.push(`… and ${this.more} more notes like these`);
    for (const [key, n] of this.packets) out.push(`${n} packet${n === 1 ? '' : 's'} skipped: ${describe(key)}`);
    return out;
  }
}

function describe(key: string): string {
  switch (key) {
    case 'not IP':
      return 'not IPv4 or IPv6';
    case 'not TCP':
      return 'not TCP';
    case 'IP fragment':
      return 'IP fragments (they are not put together)';
    case 'cut short':
      return 'cut short before the end of their TCP header';
    default:
      return `${key}, which pgscope does not read (it reads ${[...new Set(Object.values(LINK_TYPES))].join(', ')})`;
  }
}

/**
 * Remembers which server each BackendKeyData came from, so that a CancelRequest arriving
 * on a new plaintext connection (libpq before 17 always sends it unencrypted, without
 * SNI) reaches the server that owns the key. Filled from decoded BackendKeyData whatever
 * the logging settings are. Pure data; shared by all sessions of one proxy.
 */
export interface CancelTarget {
  host: string;
  port: number;
  /** The connection number that received the key, for the log. */
  conn: number;
}

export class CancelRegistry {
  private readonly byKey = new Map<string, CancelTarget>();
  private readonly byConn = new Map<number, string[]>();

  private static key(processId: number, secret: Buffer): string {
    return `${processId}:${secret.toString('hex')}`;
  }

  remember(processId: number, secret: Buffer, target: CancelTarget): void {
    const k = CancelRegistry.key(processId, secret);
    this.byKey.set(k, target);
    const list = this.byConn.get(target.conn) ?? [];
    list.push(k);
    this.byConn.set(target.conn, list);
  }

  lookup(processId: number, secret: Buffer): CancelTarget | undefined {
    return this.byKey.get(CancelRegistry.key(processId, secret));
  }

  /** The connection that owned keys ended: its keys can no longer cancel anything. */
  forget(conn: number): void {
    for (const k of this.byConn.get(conn) ?? []) this.byKey.delete(k);
    this.byConn.delete(conn);
  }

  get size(): number {
    return this.byKey.size;
  }
}

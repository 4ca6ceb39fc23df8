/**
 * Which server a connection goes to (Elephantshark's rules): the fixed --server-host (or
 * BACKEND); else the SNI name the client sent, with --server-delete-suffix removed (exact,
 * case-sensitive, only at the end); else localhost.
 */
export function serverHostFor(fixed: string | null, sni: string | null, deleteSuffix: string): { host: string; why: string } {
  if (fixed) return { host: fixed, why: 'fixed by --server-host' };
  if (sni) {
    if (deleteSuffix && sni.endsWith(deleteSuffix) && sni.length > deleteSuffix.length) {
      return { host: sni.slice(0, -deleteSuffix.length), why: `SNI name ${sni} minus suffix ${deleteSuffix}` };
    }
    return { host: sni, why: `SNI name ${sni}` };
  }
  return { host: 'localhost', why: 'no --server-host and no SNI name' };
}

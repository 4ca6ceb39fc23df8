/** `pgscope ca`: being written (see src/tls/local-ca.ts). This signature is the contract. */
export async function caCommand(opts: { printPath: boolean; caDir: string | null }, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  void opts;
  void out;
  err('pgscope: the local CA is not available yet\n');
  return 1;
}

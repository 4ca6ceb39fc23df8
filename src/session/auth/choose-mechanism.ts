import type { Gs2Flag } from './scram-client.js';

export type ChannelBindingPolicy = 'disable' | 'prefer' | 'require';

export type MechanismChoice = { ok: true; mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-256-PLUS'; flag: Gs2Flag } | { ok: false; why: string };

/**
 * Which SASL mechanism pgscope uses toward the server, as libpq chooses with its
 * channel_binding setting: -PLUS when the server offers it over TLS (unless disabled);
 * with `require`, nothing else. Without -PLUS the GS2 flag says whether pgscope could
 * have bound ('y': TLS is up but the server did not offer -PLUS, which lets a server
 * detect a downgrade) or not ('n').
 */
export function chooseMechanism(offered: string[], serverTls: boolean, canBind: boolean, policy: ChannelBindingPolicy): MechanismChoice {
  const plus = offered.includes('SCRAM-SHA-256-PLUS');
  const plain = offered.includes('SCRAM-SHA-256');
  if (plus && serverTls && canBind && policy !== 'disable') return { ok: true, mechanism: 'SCRAM-SHA-256-PLUS', flag: 'p' };
  if (policy === 'require') {
    const why = !serverTls
      ? 'the server leg is not encrypted, and channel binding needs TLS'
      : !plus
        ? `the server did not offer SCRAM-SHA-256-PLUS (it offered ${offered.join(', ') || 'nothing'})`
        : "the server's certificate does not allow tls-server-end-point channel binding";
    return { ok: false, why: `--server-channel-binding require: ${why}` };
  }
  if (!plain) return { ok: false, why: `the server offered only SASL mechanisms pgscope cannot use: ${offered.join(', ') || '(none)'}` };
  return { ok: true, mechanism: 'SCRAM-SHA-256', flag: serverTls && policy !== 'disable' ? 'y' : 'n' };
}

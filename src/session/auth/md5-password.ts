import { createHash } from 'node:crypto';

/**
 * AuthenticationMD5Password's answer: "concat('md5', md5(concat(md5(concat(password,
 * username)), random-salt)))", each md5 written as 32 lowercase hex digits.
 */
export function md5PasswordResponse(password: Buffer, user: string, salt: Buffer): string {
  const inner = createHash('md5').update(password).update(user, 'utf8').digest('hex');
  return 'md5' + createHash('md5').update(inner, 'latin1').update(salt).digest('hex');
}

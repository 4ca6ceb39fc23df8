import { fieldsMessage, type ErrorNotice } from './error-fields.js';

/** The fields of NoticeResponse: each field's type code and value, in the order sent. */
export type NoticeResponse = ErrorNotice;

/**
 * NoticeResponse (B, 'N'): "Identifies the message as a notice." Same fields as
 * ErrorResponse (error-fields.ts); severity WARNING, NOTICE, DEBUG, INFO or LOG.
 */
export const noticeResponse = fieldsMessage('NoticeResponse', 'N');

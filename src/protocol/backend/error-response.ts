import { fieldsMessage, type ErrorNotice } from './error-fields.js';

/** The fields of ErrorResponse: each field's type code and value, in the order sent. */
export type ErrorResponse = ErrorNotice;

/**
 * ErrorResponse (B, 'E'): "Identifies the message as an error." Fields as described in
 * "Error and Notice Message Fields" (error-fields.ts), ended by a zero byte.
 */
export const errorResponse = fieldsMessage('ErrorResponse', 'E');

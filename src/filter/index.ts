/**
 * The filter language: lexer, parser, evaluation over facts. Pure (it knows messages only by
 * name), shared by --filter (output/filter/) and fault rules.
 */
export type { FilterNode, Sender } from './ast.js';
export { printNode } from './ast.js';
export { FilterError } from './filter-error.js';
export { parseExpression, parseExpressionAt } from './parser.js';
export { evaluate, evaluateWith, termOf, F, T, U, type Facts, type Term, type Truth } from './evaluate.js';
export { messageFacts, normalizedName } from './message-facts.js';

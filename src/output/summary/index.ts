export { SummarySink, MAX_GROUPS, OTHER_GROUP, type StatementGroup, type SummaryOptions } from './summary-sink.js';
export { DurationStats, RESERVOIR_SIZE } from './duration-stats.js';
export { renderSummary, bytes } from './render.js';

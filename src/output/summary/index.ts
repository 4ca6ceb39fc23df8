export { SummarySink, MAX_GROUPS, OTHER_GROUP } from './summary-sink.js';
export { DurationStats, RESERVOIR_SIZE } from './duration-stats.js';
export { bytes } from './render.js';

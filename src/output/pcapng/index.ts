export { PcapngSink } from './pcapng-sink.js';

export { PcapngSink, SERVER_PORT, type PcapngOptions, type PcapngWriter } from './pcapng-sink.js';

import { deflateSync } from 'node:zlib';

/**
 * The preset deflate dictionary of coldgate.batch/4 and the `latest` snapshot: strings every
 * small message would otherwise spell out, so a 5 s batch or an alarm event costs tens of bytes,
 * not hundreds. Frozen: a payload names its dictionary by Adler-32 (envelope.ts), so a new
 * dictionary is an addition to DICTIONARIES, never an edit of this one. zlib prefers matches
 * near the end of a dictionary, so the commonest strings come last.
 */
const V4 = [
  // latest (runtime/live-state.ts): device health, compartments, gate.
  '{"id":"uplink","kind":"uplink","state":"ok","detail":"connected to mqtt://","lastOkAt":"","offlineForMs":0,"published":,"acked":,"wireBytes":,"inflightBatches":0}',
  '{"id":"journal","kind":"journal","state":"ok","detail":" records waiting for the broker","usedBytes":,"maxBytes":,"pendingRecords":,"droppedRecords":0,"errors":0}',
  '{"id":"","kind":"probe","state":"ok","lastOkAt":"","errors":0,"bus":"","unit":1,"lastValue":,"errorsInARow":0,"counts":{"polls":,"good":,"sensorFault":0,"timeout":0,"backoff":0,"crc":0,"exception":0,"disconnected":0,"io":0}}',
  '{"gatewayId":"","ts":"","compartments":[{"id":"","name":"","value":,"probes":[{"id":"","value":,"quality":"good","at":""}],"limits":{"high":,"criticalHigh":},"state":"ok","suppressedBy":[],"display":{"kind":"ok"}}],"alarms":[],"gate":{"doNotUnload":false},"health":[],"lastSeq":',
  // Records in batches: positions, faults, gaps, events with their alarm.
  '{"kind":"position","ts":"","tq":"gps","mode":3,"lat":,"lon":,"speed":,"track":,"altMSL":,"seq":}',
  '{"kind":"temperature","ts":"","tq":"system","probe":"","compartment":"","value":null,"quality":"sensor-fault","error":"comms-error","seq":}',
  '{"kind":"gap","ts":"","tq":"system","fromSeq":,"toSeq":,"count":,"reason":"max-bytes","max-age","seq":}',
  '{"kind":"event","ts":"","tq":"system","type":"alarm.cleared","severity":"info","source":"","message":"Cleared: ","data":{"alarmId":"","alarmType":"temperature","alarm":{"id":"","key":"temp:","type":"temperature","severity":"warning","source":"","message":"","raisedAt":"","latched":false,"active":false,"data":{"channel":"","tier":"high","limit":,"value":,"peak":,"delaySec":}}},"seq":}',
  '{"kind":"event","ts":"","tq":"system","type":"alarm.raised","severity":"critical","source":"","message":" above ","data":{"alarmId":"","alarmType":"temperature","alarm":{"id":"","key":"temp:","type":"temperature","severity":"critical","source":"","message":" above  C:  C","raisedAt":"","latched":true,"active":true,"data":{"channel":"","tier":"criticalHigh","limit":,"value":,"peak":,"delaySec":0}}},"seq":}',
  // Batch headers and rows, commonest last.
  '{"schema":"coldgate.batch/4","gatewayId":"","incarnation":"","lane":"events","fromSeq":,"toSeq":,"count":,"probes":[],"rows":[],"records":[',
  '{"schema":"coldgate.batch/4","gatewayId":"","incarnation":"","lane":"telemetry","fromSeq":,"toSeq":,"count":,"probes":[{"probe":"","compartment":"","scale":1},{"probe":"","compartment":"","scale":1}],"rows":[{"t":,"s":,"p":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15],"v":[0,0,0,0,0,0,0,0]},{"t":1000,"s":1,"v":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}],"records":[]}',
].join('');

export const DICTIONARY = Buffer.from(V4);

/** Adler-32 of the dictionary, as a zlib stream made with it names it (RFC 1950 DICTID). */
export const DICTIONARY_ID = deflateSync(Buffer.alloc(0), { dictionary: DICTIONARY }).readUInt32BE(2);

/** Every dictionary a decoder knows, by DICTID. */
export const DICTIONARIES = new Map<number, Buffer>([[DICTIONARY_ID, DICTIONARY]]);

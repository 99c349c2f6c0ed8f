import { deflateSync } from 'node:zlib';

/**
 * The preset deflate dictionary of coldgate.batch/4 and the `latest` snapshot: strings every
 * small message would otherwise spell out, so a 5 s batch or an alarm event costs tens of bytes,
 * not hundreds. Frozen: a payload names its dictionary by Adler-32 (envelope.ts), so a new
 * dictionary is an addition to DICTIONARIES, never an edit of this one. zlib prefers matches
 * near the end of a dictionary, so the commonest strings come last.
 */
const V4 = [
  '"kind":"position","mode":3,"lat":,"lon":,"speed":,"track":,"altMSL":',
  '"kind":"gap","fromSeq":,"toSeq":,"count":,"reason":"max-bytes""max-age"',
  '"quality":"sensor-fault","error":"comms-error","value":null,"kind":"temperature"',
  '{"id":"uplink","kind":"uplink","state":"ok","detail":"connected to mqtt://"lastOkAt":"offlineForMs":0,"published":,"acked":,"wireBytes":,"inflightBatches":',
  '{"id":"journal","kind":"journal","state":"ok","usedBytes":,"maxBytes":,"pendingRecords":,"droppedRecords":0,"errors":0}',
  '{"id":"","kind":"probe","state":"ok","detail":"","lastOkAt":"","errors":0,"lastValue":,"counts":{"polls":,"good":,"sensorFault":0,"timeout":0,"backoff":0,"crc":0,"exception":0,"disconnected":0,"io":0}}',
  '"health":[],"lastSeq":,"position":,"gate":{"doNotUnload":false},"trip":',
  '"compartments":[{"id":"","name":"","state":"ok","temperature":,"probes":[],"display":{"status":"ok","detail":""}}],"alarms":[]',
  '"kind":"event","type":"alarm.raised""alarm.cleared""alarm.acknowledged","severity":"critical""warning""info","source":"","message":" above ","data":{"alarmId":"',
  '{"schema":"coldgate.batch/4","gatewayId":"","incarnation":"","lane":"events"',
  '{"schema":"coldgate.batch/4","gatewayId":"","incarnation":"","lane":"telemetry","fromSeq":,"toSeq":,"count":,"probes":[{"probe":"","compartment":"","scale":1}],"rows":[{"t":1000,"s":1,"tq":"gps","p":[0,1,2,3,4,5,6,7],"v":[0,0,0,0,0,0,0,0]},{"t":1000,"s":1,"v":[0,0,0,0,0,0,0,0]}],"records":[]}',
].join('');

export const DICTIONARY = Buffer.from(V4);

/** Adler-32 of the dictionary, as a zlib stream made with it names it (RFC 1950 DICTID). */
export const DICTIONARY_ID = deflateSync(Buffer.alloc(0), { dictionary: DICTIONARY }).readUInt32BE(2);

/** Every dictionary a decoder knows, by DICTID. */
export const DICTIONARIES = new Map<number, Buffer>([[DICTIONARY_ID, DICTIONARY]]);

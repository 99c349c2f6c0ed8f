/** The GPS driver the runtime starts, and the `coldgate gps decode` command. */
export { createGpsDriver, type GpsDriver, type GpsDeps } from './driver.ts';
export { gpsDecodeCommand } from './cli-decode.ts';

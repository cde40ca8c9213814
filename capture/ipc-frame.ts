/**
 * Frames that cross a process boundary (source process → capture, rendition worker ↔ capture) travel as
 * IPC messages with 'advanced' serialization, which hands the JPEG back as a Uint8Array. These two
 * functions are the one place that turns such a message back into a Frame, wrapping the bytes without
 * copying them (a 720p JPEG is ~90 KB, 30 times a second).
 */
import type { Frame } from '../bus/frame.js';

/** The frame fields every frame-carrying IPC message has. */
export interface IpcFrame {
  seq: number;
  timestamp: number;
  width: number;
  height: number;
  jpeg: Uint8Array;
}

/** The message's bytes as a Buffer over the same memory. */
export function ipcBytes(view: Uint8Array): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

export function frameFromIpc(camera: string, msg: IpcFrame): Frame {
  return { camera, seq: msg.seq, timestamp: msg.timestamp, width: msg.width, height: msg.height, jpeg: ipcBytes(msg.jpeg) };
}

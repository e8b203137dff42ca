// Reading a screenshot's pixels: a blank canvas still answers queryRenderedFeatures, so what was
// drawn is checked in the picture itself.
import { PNG } from 'pngjs';

export function countPixelsNear(png: Buffer, rgb: [number, number, number], tolerance = 40): number {
  const image = PNG.sync.read(png);
  let count = 0;
  for (let i = 0; i < image.data.length; i += 4) {
    const dr = image.data[i]! - rgb[0];
    const dg = image.data[i + 1]! - rgb[1];
    const db = image.data[i + 2]! - rgb[2];
    if (Math.abs(dr) + Math.abs(dg) + Math.abs(db) <= tolerance) count++;
  }
  return count;
}

export function hexToRgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.replace('#', ''), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Where in the picture the pixels of a colour are, by their middle one in reading order (null: none). */
export function pixelNear(png: Buffer, rgb: [number, number, number], tolerance = 40): { x: number; y: number } | null {
  const image = PNG.sync.read(png);
  const found: number[] = [];
  for (let i = 0; i < image.data.length; i += 4) {
    const d = Math.abs(image.data[i]! - rgb[0]) + Math.abs(image.data[i + 1]! - rgb[1]) + Math.abs(image.data[i + 2]! - rgb[2]);
    if (d <= tolerance) found.push(i / 4);
  }
  if (found.length === 0) return null;
  const at = found[Math.floor(found.length / 2)]!;
  return { x: at % image.width, y: Math.floor(at / image.width) };
}

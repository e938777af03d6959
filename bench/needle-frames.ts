// The needle task's frames as the engine gets them from a .y4m clip of the task.
import { frameToRgb, type Y4mVideo } from '../src/cli/y4m';
import { y4mFrame } from '../src/cli/y4m-writer';
import type { RgbImage } from '../src/model/preprocess';
import { renderFrame, type NeedleStream } from '../src/needle/render';

/** Frame i's timestamp: the task runs at 1 frame/s. */
export const frameMs = (i: number) => i * 1000;

/**
 * Frame `i` rendered, written as a 4:2:0 y4m record and read back (what `streamvlm needle` clips
 * and the training pool give the model: the chroma subsampling and limited range change the
 * pixels), at the renderer's 160×120; the engine does its own resize.
 */
export function needleFrame(stream: NeedleStream, i: number): RgbImage {
  const { width, height } = stream;
  const record = y4mFrame(renderFrame(stream, i), width, height);
  const video: Y4mVideo = { header: { width, height, fpsNum: 1, fpsDen: 1, chroma: '420', fullRange: false }, frameOffsets: [6], bytes: record };
  return frameToRgb(video, 0);
}

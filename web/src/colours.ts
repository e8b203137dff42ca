// Map colours, shared with the browser tests that look for them in screenshots.
import type { PointKind, RunnerStatusCode } from '../../shared/protocol.ts';

export const COURSE_COLOUR = '#e8590c';
export const RUNNER_COLOURS: Record<RunnerStatusCode, string> = {
  0: '#adb5bd',
  1: '#1c7ed6',
  2: '#868e96',
  3: '#2f9e44',
  4: '#495057',
  5: '#495057',
};
export const FOLLOWED_COLOUR = '#c2255c';
/** Favourite runners' markers (web/src/favourites.ts). */
export const FAVOURITE_COLOUR = '#7048e8';
/** Marks on the course: km markers, start and finish, and the event file's points of interest. */
export const FURNITURE_COLOURS: Record<'km' | 'start' | 'finish' | PointKind, string> = {
  km: '#212529',
  start: '#0ca678',
  finish: '#000000',
  water: '#22b8cf',
  food: '#f08c00',
  medical: '#f03e3e',
  toilet: '#845ef7',
  info: '#1864ab',
  cheer: '#e64980',
};
/** A runner's own track in a replay. */
export const TRACK_COLOUR = '#0b7285';
export const BACKGROUND_COLOUR = '#f1efe9';

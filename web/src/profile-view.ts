// The course's elevation profile, with the runners placed on it: drawn as SVG in the page (no
// request; the altitudes come with the course, docs/RESULTS.md). On a loop or track, one lap.
import { elevationLookup } from '../../shared/eta.ts';
import type { CourseGeometry } from '../../shared/protocol.ts';
import { $ } from './dom.ts';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 300;
const HEIGHT = 90;
const PAD = 6;

export interface ProfileRunner {
  distanceAlongRaceM: number;
  colour: string;
  followed: boolean;
}

export class ProfileView {
  private course: CourseGeometry | null = null;
  /** The profile's altitude at a distance along the lap (between its points). */
  private elevationAt: (distanceAlongLapM: number) => number = () => 0;
  private minM = 0;
  private maxM = 1;

  /** Draws a course's profile, or hides the panel when it has none. */
  showCourse(course: CourseGeometry): void {
    const profile = course.elevationProfile;
    $('profile-panel').hidden = !profile || profile.length < 2;
    const svg = $('profile');
    svg.replaceChildren();
    this.course = profile && profile.length >= 2 ? course : null;
    if (!this.course || !profile) return;
    this.elevationAt = elevationLookup(profile, course.lapLengthM, false);
    const elevations = profile.map(([, e]) => e);
    this.minM = Math.min(...elevations);
    this.maxM = Math.max(...elevations, this.minM + 10);
    const area = document.createElementNS(SVG, 'path');
    const points = profile.map(([d, e]) => `${this.x(d).toFixed(1)},${this.y(e).toFixed(1)}`);
    area.setAttribute('d', `M${this.x(profile[0]![0]).toFixed(1)},${HEIGHT - PAD} L${points.join(' L')} L${this.x(profile.at(-1)![0]).toFixed(1)},${HEIGHT - PAD} Z`);
    area.setAttribute('class', 'profile-area');
    const runners = document.createElementNS(SVG, 'g');
    runners.setAttribute('id', 'profile-runners');
    svg.append(area, runners);
    $('profile-range').textContent = `${Math.round(this.minM)}–${Math.round(this.maxM)} m above sea level${course.courseKind === 'street' ? '' : ', one lap'}`;
  }

  /** Places the runners on the profile (the followed one last, on top). */
  showRunners(runners: readonly ProfileRunner[]): void {
    const course = this.course;
    const group = document.getElementById('profile-runners');
    if (!course || !group) return;
    const ordered = [...runners].sort((a, b) => Number(a.followed) - Number(b.followed));
    group.replaceChildren(
      ...ordered.map((r) => {
        const d = course.courseKind === 'street' ? r.distanceAlongRaceM : r.distanceAlongRaceM % course.lapLengthM;
        const dot = document.createElementNS(SVG, 'circle');
        dot.setAttribute('cx', this.x(d).toFixed(1));
        dot.setAttribute('cy', this.y(this.elevationAt(d)).toFixed(1));
        dot.setAttribute('r', r.followed ? '4' : '2.2');
        dot.setAttribute('fill', r.colour);
        return dot;
      }),
    );
    group.setAttribute('data-count', String(ordered.length));
  }

  private x(d: number): number {
    const lengthM = this.course ? (this.course.courseKind === 'street' ? this.course.raceDistanceM : this.course.lapLengthM) : 1;
    return PAD + ((WIDTH - 2 * PAD) * d) / lengthM;
  }

  private y(e: number): number {
    return HEIGHT - PAD - ((HEIGHT - 2 * PAD) * (e - this.minM)) / (this.maxM - this.minM);
  }
}

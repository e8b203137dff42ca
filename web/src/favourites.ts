// Favourite runners, kept in this browser only (localStorage): several can be watched at once,
// their markers are highlighted, and while the page is open a notification says when one passes
// a timing point or finishes. docs/RESULTS.md.

export interface Favourite {
  raceId: string;
  participantId: string;
  /** How the runner is shown in the list (kept so the list reads well before the race loads). */
  label: string;
}

const STORAGE_KEY = 'racetrack.favourites';
/** Enough for a family and their friends; a list is not a way to fill the browser's storage. */
const MAX_FAVOURITES = 50;

function isFavourite(x: unknown): x is Favourite {
  if (typeof x !== 'object' || x === null) return false;
  const f = x as Record<string, unknown>;
  return typeof f['raceId'] === 'string' && typeof f['participantId'] === 'string' && typeof f['label'] === 'string';
}

export class Favourites {
  private list: Favourite[];

  constructor(private readonly storage: Storage | null = typeof localStorage === 'undefined' ? null : localStorage) {
    this.list = this.read();
  }

  /** What was stored, kept only where it has the right shape (storage is input like any other). */
  private read(): Favourite[] {
    try {
      const parsed: unknown = JSON.parse(this.storage?.getItem(STORAGE_KEY) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter(isFavourite).slice(0, MAX_FAVOURITES) : [];
    } catch {
      return [];
    }
  }

  private write(): void {
    try {
      this.storage?.setItem(STORAGE_KEY, JSON.stringify(this.list));
    } catch {
      // Storage full or refused (private browsing): favourites last while the page is open.
    }
  }

  get all(): readonly Favourite[] {
    return this.list;
  }

  has(raceId: string, participantId: string): boolean {
    return this.list.some((f) => f.raceId === raceId && f.participantId === participantId);
  }

  /** Adds or removes; true when the runner is a favourite afterwards. */
  toggle(favourite: Favourite): boolean {
    if (this.has(favourite.raceId, favourite.participantId)) {
      this.list = this.list.filter((f) => !(f.raceId === favourite.raceId && f.participantId === favourite.participantId));
      this.write();
      return false;
    }
    if (this.list.length >= MAX_FAVOURITES) return false;
    this.list = [...this.list, favourite];
    this.write();
    return true;
  }
}

/**
 * Tells the spectator something about a favourite: a browser notification when they allowed it,
 * and always a line on the page (a spectator who said no still sees it).
 */
export function announce(title: string, body: string, onPage: (text: string) => void): void {
  onPage(`${title}: ${body}`);
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  try {
    new Notification(title, { body, tag: `${title}:${body}` });
  } catch {
    // Some browsers allow notifications only from a service worker: the line on the page remains.
  }
}

/** Asks once, on the click that adds a favourite (browsers ask only on a user's gesture). */
export function askForNotifications(): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'default') return;
  void Notification.requestPermission().catch(() => undefined);
}

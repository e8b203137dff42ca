import { describe, expect, it } from 'vitest';
import { ConfigError, DEMO_EVENT_FILE, loadConfig } from '../../server/config.ts';

describe('configuration', () => {
  it('defaults to the demo on 127.0.0.1:8080 with the simulation on', () => {
    expect(loadConfig({}, [])).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      eventFile: DEMO_EVENT_FILE,
      isDemoEvent: true,
      simulate: true,
      demoSpeed: 1,
      tickMs: 1000,
      organiserToken: null,
      basemap: { kind: 'none' },
      redisUrl: null,
      redisPrefix: 'racetrack',
    });
  });

  it('takes an event file, flags and the environment', () => {
    const config = loadConfig({ PORT: '9000', ORGANISER_TOKEN: 'Zq3-organiser-8tF2kL9x', SIMULATE: 'on' }, ['my-event.json', '--speed', '20']);
    expect(config).toMatchObject({ port: 9000, eventFile: 'my-event.json', isDemoEvent: false, simulate: true, demoSpeed: 20 });
    expect(loadConfig({}, ['my-event.json']).simulate).toBe(false);
    expect(loadConfig({}, ['--no-simulate']).simulate).toBe(false);
    expect(loadConfig({}, ['--port', '0']).port).toBe(0);
  });

  it('picks the first map source set, in the order MAP_PMTILES, MAP_STYLE_URL, MAPBOX_TOKEN, and says which others were set', () => {
    const all = { MAP_PMTILES: '/srv/tehran.pmtiles', MAP_STYLE_URL: 'https://tiles.example.org/style.json', MAPBOX_TOKEN: 'pk.test' };
    expect(loadConfig(all, [])).toMatchObject({
      basemap: { kind: 'pmtiles', file: '/srv/tehran.pmtiles', attribution: '© OpenStreetMap contributors', glyphsUrl: null },
      basemapsIgnored: ['MAP_STYLE_URL', 'MAPBOX_TOKEN'],
    });
    expect(loadConfig({ MAP_STYLE_URL: all.MAP_STYLE_URL, MAPBOX_TOKEN: 'pk.test' }, []).basemap).toEqual({ kind: 'style', url: all.MAP_STYLE_URL });
    expect(loadConfig({ MAPBOX_TOKEN: 'pk.test' }, []).basemap).toEqual({ kind: 'mapbox', token: 'pk.test' });
    expect(loadConfig({ MAP_PMTILES: 'a.pmtiles', MAP_ATTRIBUTION: '© OSM', MAP_GLYPHS_URL: '/fonts/{fontstack}/{range}.pbf' }, []).basemap).toEqual({
      kind: 'pmtiles',
      file: 'a.pmtiles',
      attribution: '© OSM',
      glyphsUrl: '/fonts/{fontstack}/{range}.pbf',
    });
    expect(() => loadConfig({ MAP_STYLE_URL: 'ftp://example.org/style.json' }, [])).toThrow(/MAP_STYLE_URL is a path on this server or an http\(s\) URL/);
    expect(() => loadConfig({ MAP_STYLE_URL: 'https://[x' }, [])).toThrow(/MAP_STYLE_URL/);
    expect(() => loadConfig({ MAP_GLYPHS_URL: 'https://example.org/fonts.pbf' }, [])).toThrow(/MAP_GLYPHS_URL needs \{fontstack\} and \{range\}/);
  });

  it('refuses bad values with a message naming them', () => {
    expect(() => loadConfig({ PORT: 'eighty' }, [])).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: '70000' }, [])).toThrow(/PORT/);
    expect(() => loadConfig({ ORGANISER_TOKEN: 'short' }, [])).toThrow(/ORGANISER_TOKEN needs at least 16/);
    // Long enough, but a word, a keyboard walk, a sequence or a repeat is guessed quickly.
    for (const weak of ['password-password-1', 'qwertyuiopasdfghjkl', 'abcdefghijklmnopqrs', 'aaaaaaaaaaaaaaaaaaaa']) {
      expect(() => loadConfig({ ORGANISER_TOKEN: weak }, []), weak).toThrow(/ORGANISER_TOKEN is too easy to guess/);
    }
    expect(() => loadConfig({ LINK_SECRET: 'x'.repeat(40) }, [])).toThrow(/LINK_SECRET is too easy to guess/);
    expect(() => loadConfig({ TICK_MS: '5' }, [])).toThrow(/TICK_MS/);
    expect(() => loadConfig({ REDIS_URL: 'localhost:6379' }, [])).toThrow(/REDIS_URL is redis:\/\/host:port/);
    expect(() => loadConfig({}, ['--bogus'])).toThrow(/usage/);
    expect(() => loadConfig({}, ['a.json', 'b.json'])).toThrow(/at most one event file/);
  });
});

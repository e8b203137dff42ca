// The exact addresses each tracker app is configured with (docs/trackers/ explains them).

export interface TrackerUrls {
  runnerPage: string;
  traccarServer: string;
  osmand: string;
  ownTracks: string;
  gpsLogger: string;
}

export function trackerUrls(baseUrl: string, deviceToken: string, participantId: string): TrackerUrls {
  const base = baseUrl.replace(/\/+$/, '');
  const id = encodeURIComponent(deviceToken);
  return {
    // The runner page's own secret in the fragment, which is never sent to a server. The tracker
    // apps' addresses below are their own protocols: the token stays in their query strings.
    runnerPage: `${base}/runner.html#token=${id}`,
    traccarServer: `${base}/ingest/osmand`,
    // OsmAnd fills {0} latitude, {1} longitude, {2} time in ms, {3} hdop, {4} altitude, {5} speed in m/s.
    osmand: `${base}/ingest/osmand?id=${id}&lat={0}&lon={1}&timestamp={2}&hdop={3}&altitude={4}&speedMps={5}`,
    ownTracks: `${base}/ingest/owntracks?u=${encodeURIComponent(participantId)}&d=phone`,
    // GPSLogger's %SPD is in m/s and %TIMESTAMP in seconds.
    gpsLogger: `${base}/ingest/osmand?id=${id}&lat=%LAT&lon=%LON&timestamp=%TIMESTAMP&speedMps=%SPD&accuracy=%ACC&batt=%BATT&bearing=%DIR&altitude=%ALT`,
  };
}

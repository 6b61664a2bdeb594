import { useEffect, useState } from 'react';

/** What the gateway's /metrics says about sharing (docs/sharing.md). */
export interface SharingFigures {
  subscribers: number;
  upstreamSubscriptions: number;
  upstreamSockets: number;
  framesEncoded: number;
  framesWritten: number;
}

/** Reads the figures out of Prometheus' text format; `undefined` when a metric is missing. */
export function parseSharing(text: string): SharingFigures | undefined {
  const value = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.slice(name.length + 1));
  };
  const figures = {
    subscribers: value('subway_subscribers'),
    upstreamSubscriptions: value('subway_upstream_subscriptions'),
    upstreamSockets: value('subway_upstream_sockets'),
    framesEncoded: value('subway_frames_encoded_total'),
    framesWritten: value('subway_frames_written_total'),
  };
  return Object.values(figures).every((v) => v !== undefined && !Number.isNaN(v)) ? (figures as SharingFigures) : undefined;
}

/**
 * Polls `/metrics` once a second: every tab's streams (subscribers) against
 * what the gateway holds upstream. With `UPSTREAM_SHARING=subscription`, a
 * second tab adds subscribers, never upstream subscriptions.
 */
export function Sharing() {
  const [figures, setFigures] = useState<SharingFigures | undefined>();
  useEffect(() => {
    let stopped = false;
    const poll = async () => {
      try {
        const res = await fetch('/metrics');
        const next = res.ok ? parseSharing(await res.text()) : undefined;
        if (!stopped) setFigures(next);
      } catch {
        if (!stopped) setFigures(undefined);
      }
    };
    void poll();
    const timer = setInterval(poll, 1000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);
  if (!figures) return null;
  const fanOut = figures.framesEncoded > 0 ? figures.framesWritten / figures.framesEncoded : 0;
  return (
    <div className="sharing" data-testid="sharing" data-subscribers={figures.subscribers} data-upstream-subscriptions={figures.upstreamSubscriptions} title="From the gateway's /metrics, all tabs together (docs/sharing.md)">
      <div>
        <span>subscribers</span>
        <b>{figures.subscribers}</b>
      </div>
      <div>
        <span>upstream subscriptions</span>
        <b>{figures.upstreamSubscriptions}</b>
      </div>
      <div>
        <span>upstream sockets</span>
        <b>{figures.upstreamSockets}</b>
      </div>
      <div>
        <span>writes per frame</span>
        <b>{fanOut.toFixed(1)}</b>
      </div>
    </div>
  );
}

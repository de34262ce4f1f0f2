-- Stream health sampled from OBS every few seconds while it streams (GetStats and
-- GetStreamStatus). Per-stream reports join it with stream_sessions by time: OBS
-- streams to one ingest whichever platforms are live.
CREATE TABLE obs_health_samples (
    at_ms                  INTEGER PRIMARY KEY,
    output_skipped_frames  INTEGER NOT NULL,
    output_total_frames    INTEGER NOT NULL,
    render_skipped_frames  INTEGER NOT NULL,
    render_total_frames    INTEGER NOT NULL,
    congestion             REAL    NOT NULL,
    output_bytes           INTEGER NOT NULL,
    bitrate_kbps           REAL,
    cpu_percent            REAL    NOT NULL
);

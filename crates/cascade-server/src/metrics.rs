//! What operators watch during a viral moment, in Prometheus's text format: requests by
//! route and status with latency histograms, the job queue by kind with the age of its
//! oldest job (fan-out lag), jobs done and failed with their latency by lane, streaming
//! connections and slow consumers dropped, store pool use, Web Push outcomes.
//!
//! Counters and histograms are bumped where things happen; the gauges (queue depth,
//! connections, pools) are read from their sources when `/metrics` is scraped, so an idle
//! server does no work for them. `GET /metrics` answers only with `--metrics-token` set,
//! and only to that bearer token.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;
type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

/// Seconds, from 1 ms to about 16 s, doubling.
fn latency_buckets() -> Histogram {
    Histogram::new((0..15).map(|i| 0.001 * f64::from(1u32 << i)))
}

/// Seconds, from 10 ms to about 2.8 hours, in powers of two: a job can wait long.
fn lag_buckets() -> Histogram {
    Histogram::new((0..21).map(|i| 0.01 * f64::from(1u32 << i)))
}

pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    request_seconds: Histograms,
    jobs_done: Family<Labels, Counter>,
    jobs_failed: Family<Labels, Counter>,
    job_latency_seconds: Histograms,
    jobs_queued: Family<Labels, Gauge>,
    oldest_job_seconds: Family<Labels, Gauge>,
    stream_connections: Gauge,
    streams_dropped: Counter,
    pool_connections: Family<Labels, Gauge>,
    pushes: Family<Labels, Counter>,
    federation_deliveries: Family<Labels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("cascade");
        let requests = Family::<Labels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, method and status",
            requests.clone(),
        );
        let request_seconds = Histograms::new_with_constructor(latency_buckets);
        registry.register(
            "http_request_duration_seconds",
            "Time until the response started, by route and method",
            request_seconds.clone(),
        );
        let jobs_done = Family::<Labels, Counter>::default();
        registry.register("jobs_done", "Jobs performed, by kind", jobs_done.clone());
        let jobs_failed = Family::<Labels, Counter>::default();
        registry.register(
            "jobs_failed",
            "Job attempts that failed (tried again later), by kind",
            jobs_failed.clone(),
        );
        let job_latency_seconds = Histograms::new_with_constructor(lag_buckets);
        registry.register(
            "job_latency_seconds",
            "From the commit that wrote a job to the job done, by lane",
            job_latency_seconds.clone(),
        );
        let jobs_queued = Family::<Labels, Gauge>::default();
        registry.register("jobs_queued", "Jobs waiting, by kind", jobs_queued.clone());
        let oldest_job_seconds = Family::<Labels, Gauge>::default();
        registry.register(
            "oldest_job_age_seconds",
            "Age of the oldest waiting job, by kind: the fan-out lag for kind=\"fanout\"",
            oldest_job_seconds.clone(),
        );
        let stream_connections = Gauge::default();
        registry.register(
            "stream_connections",
            "Open streaming connections (WebSocket and SSE)",
            stream_connections.clone(),
        );
        let streams_dropped = Counter::default();
        registry.register(
            "stream_slow_consumers_dropped",
            "Streaming connections closed because they fell behind",
            streams_dropped.clone(),
        );
        let pool_connections = Family::<Labels, Gauge>::default();
        registry.register(
            "store_pool_connections",
            "Store connections by pool and state (open, idle); none idle means queries wait",
            pool_connections.clone(),
        );
        let pushes = Family::<Labels, Counter>::default();
        registry.register(
            "push_deliveries",
            "Web Push attempts by outcome",
            pushes.clone(),
        );
        let federation_deliveries = Family::<Labels, Counter>::default();
        registry.register(
            "federation_deliveries",
            "ActivityPub deliveries by outcome",
            federation_deliveries.clone(),
        );
        Metrics {
            registry,
            federation_deliveries,
            requests,
            request_seconds,
            jobs_done,
            jobs_failed,
            job_latency_seconds,
            jobs_queued,
            oldest_job_seconds,
            stream_connections,
            streams_dropped,
            pool_connections,
            pushes,
        }
    }
}

impl Metrics {
    /// A request answered: `route` is the matched route pattern, never the raw path (ids
    /// in paths would make a series per status).
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&vec![
                ("route", route.to_string()),
                ("method", method.to_string()),
                ("status", status.to_string()),
            ])
            .inc();
        self.request_seconds
            .get_or_create(&vec![
                ("route", route.to_string()),
                ("method", method.to_string()),
            ])
            .observe(seconds);
    }

    pub fn job_done(&self, kind: &str, lane: &str, latency_ms: i64) {
        self.jobs_done
            .get_or_create(&vec![("kind", kind.to_string())])
            .inc();
        self.job_latency_seconds
            .get_or_create(&vec![("lane", lane.to_string())])
            .observe(latency_ms.max(0) as f64 / 1000.0);
    }

    pub fn job_failed(&self, kind: &str) {
        self.jobs_failed
            .get_or_create(&vec![("kind", kind.to_string())])
            .inc();
    }

    /// A push attempt's outcome: `delivered`, `gone`, `refused`, `retry`, `unreachable`,
    /// `given_up`.
    pub fn push(&self, outcome: &'static str) {
        self.pushes
            .get_or_create(&vec![("outcome", outcome.to_string())])
            .inc();
    }

    /// An ActivityPub delivery's outcome: `delivered`, `refused` (4xx: not sent again),
    /// `retry` (5xx, 408, 429), `unreachable`, `circuit_open` (not attempted).
    pub fn federation_delivery(&self, outcome: &'static str) {
        self.federation_deliveries
            .get_or_create(&vec![("outcome", outcome.to_string())])
            .inc();
    }

    /// Sets the gauges read at scrape time and renders everything.
    pub fn render(
        &self,
        queued: &[(String, i64, i64)],
        now_ms: i64,
        streams: (u64, u64),
        pools: &[(&'static str, u32, usize)],
    ) -> String {
        let (stream_connections, dropped) = streams;
        self.streams_dropped
            .inc_by(dropped.saturating_sub(self.streams_dropped.get()));
        self.jobs_queued.clear();
        self.oldest_job_seconds.clear();
        for (kind, count, oldest) in queued {
            let labels = vec![("kind", kind.clone())];
            self.jobs_queued.get_or_create(&labels).set(*count);
            self.oldest_job_seconds
                .get_or_create(&labels)
                .set((now_ms - oldest).max(0) / 1000);
        }
        self.stream_connections
            .set(i64::try_from(stream_connections).unwrap_or(i64::MAX));
        for (pool, size, idle) in pools {
            self.pool_connections
                .get_or_create(&vec![("pool", pool.to_string()), ("state", "open".into())])
                .set(i64::from(*size));
            self.pool_connections
                .get_or_create(&vec![("pool", pool.to_string()), ("state", "idle".into())])
                .set(*idle as i64);
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_scrape_time_gauges() {
        let metrics = Metrics::default();
        metrics.request("/api/v1/statuses/{id}", "GET", 200, 0.003);
        metrics.request("/api/v1/statuses/{id}", "GET", 404, 0.001);
        metrics.job_done("fanout", "fanout", 1_500);
        metrics.push("delivered");
        let text = metrics.render(
            &[("fanout".into(), 3, 1_000)],
            61_000,
            (7, 2),
            &[("postgres", 10, 4)],
        );
        assert!(text.contains(
            "cascade_http_requests_total{route=\"/api/v1/statuses/{id}\",method=\"GET\",status=\"404\"} 1"
        ), "{text}");
        assert!(
            text.contains("cascade_jobs_queued{kind=\"fanout\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("cascade_oldest_job_age_seconds{kind=\"fanout\"} 60"),
            "{text}"
        );
        assert!(text.contains("cascade_stream_connections 7"), "{text}");
        assert!(text.contains("cascade_store_pool_connections{pool=\"postgres\",state=\"idle\"} 4"));
        assert!(
            text.contains("cascade_job_latency_seconds_bucket{le=\"2.56\",lane=\"fanout\"} 1")
                || text
                    .contains("cascade_job_latency_seconds_bucket{lane=\"fanout\",le=\"2.56\"} 1"),
            "{text}"
        );
        assert!(text.contains("cascade_push_deliveries_total{outcome=\"delivered\"} 1"));
        // A kind no longer queued disappears rather than staying at its last count.
        assert!(
            text.contains("cascade_stream_slow_consumers_dropped_total 2"),
            "{text}"
        );
        let text = metrics.render(&[], 61_000, (0, 2), &[]);
        assert!(
            !text.contains("cascade_jobs_queued{kind=\"fanout\"}"),
            "{text}"
        );
    }
}

//! `/metrics`: Prometheus text, only with a configured token and only to it; requests
//! counted by route pattern (not raw path), jobs by kind, streams, pools.

use reqwest::Method;

use crate::helpers::{spawn_app, spawn_one_with};

#[tokio::test]
async fn metrics_are_served_only_to_the_configured_token_and_count_what_happened() {
    // One node: each node counts its own requests and jobs, as Prometheus scrapes each.
    let app = spawn_one_with(|config| config.metrics_token = Some("scrape-me".into())).await;
    let alice = app.user("alice").await;
    app.post_status(&alice, "Counting this one", "public").await;
    let missing = app.get(&alice, "/api/v1/statuses/12345").await;
    assert_eq!(missing.status, 404);
    assert_eq!(app.get_anon("/no/such/page").await.status, 404);
    app.settle().await;

    for token in [None, Some("wrong"), Some(alice.token.as_str())] {
        let refused = app.request(Method::GET, "/metrics", token, None).await;
        assert_eq!(refused.status, 401, "{token:?}");
        assert!(refused.body["error"].is_string());
    }
    let scraped = app
        .request(Method::GET, "/metrics", Some("scrape-me"), None)
        .await;
    assert_eq!(scraped.status, 200);
    assert!(scraped.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = scraped.body.as_str().expect("text").to_string();
    for needle in [
        "cascade_http_requests_total{route=\"/api/v1/statuses/{id}\",method=\"GET\",status=\"404\"} 1",
        "cascade_http_requests_total{route=\"/api/v1/statuses\",method=\"POST\",status=\"200\"} 1",
        "cascade_http_requests_total{route=\"unrouted\",method=\"GET\",status=\"404\"} 1",
        "cascade_http_request_duration_seconds_bucket",
        "cascade_jobs_done_total{kind=\"deliver\"} 1",
        "cascade_jobs_done_total{kind=\"fanout\"} 1",
        "cascade_job_latency_seconds_count{lane=\"effects\"}",
        "cascade_stream_connections 0",
        "cascade_stream_slow_consumers_dropped_total 0",
        "cascade_store_pool_connections{pool=",
        "# EOF",
    ] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
    assert!(
        !text.contains("12345"),
        "raw paths never become series: {text}"
    );
}

#[tokio::test]
async fn without_a_token_there_is_no_metrics_endpoint() {
    let app = spawn_app().await;
    let answer = app.get_anon("/metrics").await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.body["error"], "Record not found");
}

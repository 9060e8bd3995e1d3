//! Annual reports: a year of an account's activity, made when first asked for.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

/// Moves every status and follow into the middle of last year, so the report for a year
/// that is over can be read whatever today's date.
async fn into_last_year(app: &TestApp) -> i64 {
    let year: i64 = cascade_core::time::date(cascade_core::time::now_millis())[..4]
        .parse()
        .unwrap();
    let last = year - 1;
    let june = cascade_core::time::parse_rfc3339(&format!("{last}-06-15T12:00:00Z")).unwrap();
    for sql in [
        "UPDATE statuses SET created_at = $1",
        "UPDATE follows SET created_at = $1",
    ] {
        match &app.state.store {
            cascade_store::Store::Sqlite { write, .. } => {
                sqlx::query(sql).bind(june).execute(write).await.unwrap();
            }
            cascade_store::Store::Postgres(pool) => {
                sqlx::query(sql).bind(june).execute(pool).await.unwrap();
            }
        }
    }
    last
}

#[tokio::test]
async fn a_year_is_summed_up_once_it_is_over() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let quiet = app.user("quiet").await;
    app.follow(&alice, &bob).await;
    app.follow(&bob, &alice).await;
    let bobs = app.post_status(&bob, "a thought", "public").await;
    let top = app
        .post_status(&alice, "big news #cascades", "public")
        .await;
    app.post_status(&alice, "more #cascades and #rust", "public")
        .await;
    app.post(
        &alice,
        "/api/v1/statuses",
        json!({"status": "@bob indeed", "in_reply_to_id": bobs["id"]}),
    )
    .await
    .ok();
    app.post(
        &alice,
        &format!("/api/v1/statuses/{}/reblog", bobs["id"].as_str().unwrap()),
        json!({}),
    )
    .await
    .ok();
    app.post(
        &bob,
        &format!("/api/v1/statuses/{}/favourite", top["id"].as_str().unwrap()),
        json!({}),
    )
    .await
    .ok();
    let year = into_last_year(&app).await;

    let wrapped = app.get(&alice, "/api/v1/annual_reports").await.ok();
    let reports = wrapped["annual_reports"].as_array().unwrap();
    let report = reports
        .iter()
        .find(|r| r["year"] == year)
        .unwrap_or_else(|| panic!("no report for {year}: {wrapped}"));
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["account_id"], alice.id.as_str());
    let data = &report["data"];
    assert_eq!(
        data["type_distribution"],
        json!({"total": 4, "reblogs": 1, "replies": 1, "standalone": 2})
    );
    assert_eq!(data["archetype"], "lurker");
    assert_eq!(
        data["top_hashtags"][0],
        json!({"name": "cascades", "count": 2})
    );
    assert_eq!(data["top_statuses"]["by_favourites"], top["id"]);
    assert_eq!(
        data["commonly_interacted_with_accounts"][0]["account_id"],
        bob.id.as_str()
    );
    assert_eq!(data["most_reblogged_accounts"][0]["count"], 1);
    let june = &data["time_series"][5];
    assert_eq!(june["month"], 6);
    assert_eq!(june["statuses"], 4);
    assert_eq!(june["following"], 1);
    assert_eq!(june["followers"], 1);
    assert!(
        data["percentiles"].as_f64().unwrap() > 0.0,
        "alice posted more than bob"
    );
    let status_ids: Vec<&Value> = wrapped["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["id"])
        .collect();
    assert!(status_ids.contains(&&top["id"]));
    assert_eq!(wrapped["accounts"][0]["id"], bob.id.as_str());

    // The same year alone; another year has none; reading marks it.
    let one = app
        .get(&alice, &format!("/api/v1/annual_reports/{year}"))
        .await
        .ok();
    assert_eq!(one["annual_reports"].as_array().unwrap().len(), 1);
    let none = app.get(&alice, "/api/v1/annual_reports/1999").await;
    assert_eq!(none.status, 404);
    let read = app
        .post(
            &alice,
            &format!("/api/v1/annual_reports/{year}/read"),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(read, json!({}));
    // Kept as made: what happens later does not change it.
    app.post_status(&alice, "after the fact", "public").await;
    into_last_year(&app).await;
    let again = app
        .get(&alice, &format!("/api/v1/annual_reports/{year}"))
        .await
        .ok();
    assert_eq!(again["annual_reports"][0]["data"], *data);
    // Someone who posted nothing has no report.
    let nothing = app.get(&quiet, "/api/v1/annual_reports").await.ok();
    assert_eq!(nothing["annual_reports"], json!([]));
    if let Some(bad) =
        crate::schemas::validate(&[("AnnualReport", report.clone(), "annual report".into())]).await
    {
        assert!(bad.is_empty(), "{bad}");
    }
}

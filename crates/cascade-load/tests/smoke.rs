//! The load tool on a tiny world, every scenario briefly: it must finish, and what it
//! checks (exact burst counts, every sampled home and stream reached) must hold.

#[test]
fn every_scenario_runs_on_a_tiny_world() {
    let tool = std::path::PathBuf::from(env!("CARGO_BIN_EXE_cascade-load"));
    let server = tool.with_file_name("cascade");
    assert!(
        server.exists(),
        "the cascade binary is built beside the tool by `cargo test --workspace`; \
         build it with `cargo build -p cascade-server` when testing this crate alone"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("load.json");
    let status = std::process::Command::new(&tool)
        .args([
            "--accounts",
            "60",
            "--actors",
            "40",
            "--posts-per-account",
            "3",
        ])
        .args([
            "--duration",
            "0.3",
            "--connections",
            "4",
            "--websockets",
            "10",
        ])
        .args(["--celebrity-sample", "5", "--burst-concurrency", "8"])
        .arg("--server")
        .arg(&server)
        .arg("--out")
        .arg(&out)
        .status()
        .expect("the load tool runs");
    assert!(status.success());
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("a report")).expect("JSON");
    let rows = report["scenarios"].as_array().expect("scenarios");
    let names: Vec<&str> = rows.iter().filter_map(|r| r["scenario"].as_str()).collect();
    assert_eq!(names.len(), 12, "{names:?}");
    for row in rows {
        let name = row["scenario"].as_str().unwrap();
        if let Some(errors) = row["errors"].as_object() {
            assert!(errors.is_empty(), "{name}: {errors:?}");
        }
        if let Some(ratio) = row["ratio_to_health"].as_f64() {
            assert!(ratio > 0.0, "{name}");
        }
    }
    let by = |name: &str| rows.iter().find(|r| r["scenario"] == name).unwrap();
    assert_eq!(
        by("burst")["extra"]["counts_exact"],
        true,
        "{}",
        by("burst")
    );
    assert_eq!(by("celebrity")["extra"]["home_reached"], 5);
    assert_eq!(by("websockets")["extra"]["stream_reached"], 10);
    // The tool reads the server's own metrics after each scenario.
    assert!(
        by("health")["extra"]["jobs_queued_after"].is_number(),
        "{}",
        by("health")
    );
}

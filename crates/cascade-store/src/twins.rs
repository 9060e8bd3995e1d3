//! The migration twins: every SQLite migration has a PostgreSQL sibling with the same
//! name that differs only in comments and the known dialect words, so the two stores can
//! never drift apart table by table.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// SQLite word → PostgreSQL word, the only differences the twins may have.
const DIALECT: &[(&str, &str)] = &[("BLOB", "BYTEA"), ("REAL", "DOUBLE PRECISION")];

fn dir(dialect: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dialect)
}

fn names(dialect: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir(dialect))
        .expect("the migrations folder")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// The statements of a migration, comments and layout aside, in PostgreSQL's words.
fn normalised(sql: &str, from_sqlite: bool) -> Vec<String> {
    let code: String = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ");
    let mut words: Vec<String> = code.split_whitespace().map(str::to_string).collect();
    if from_sqlite {
        for w in &mut words {
            for (sqlite, postgres) in DIALECT {
                let bare = w.trim_end_matches([',', ';', ')']);
                if bare == *sqlite {
                    *w = w.replacen(sqlite, postgres, 1);
                }
            }
        }
    }
    words
        .join(" ")
        .split(';')
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .collect()
}

/// Whether two migrations are twins; `None` when they are, or the first differing pair.
fn difference(sqlite: &str, postgres: &str) -> Option<(String, String)> {
    let (a, b) = (normalised(sqlite, true), normalised(postgres, false));
    let pairs = a.iter().zip(b.iter());
    if let Some((x, y)) = pairs.into_iter().find(|(x, y)| x != y) {
        return Some((x.clone(), y.clone()));
    }
    (a.len() != b.len()).then(|| {
        (
            format!("{} statements", a.len()),
            format!("{} statements", b.len()),
        )
    })
}

#[test]
fn every_migration_has_a_twin_that_differs_only_in_dialect() {
    let (sqlite, postgres) = (names("sqlite"), names("postgres"));
    assert_eq!(
        sqlite, postgres,
        "the two dialects have the same migrations"
    );
    for name in &sqlite {
        let read = |d: &str| std::fs::read_to_string(dir(d).join(name)).expect("a migration");
        if let Some((a, b)) = difference(&read("sqlite"), &read("postgres")) {
            panic!("{name}: the twins differ beyond dialect:\n  sqlite:   {a}\n  postgres: {b}");
        }
    }
}

#[test]
fn the_guard_sees_a_difference_beyond_dialect() {
    let sqlite = "CREATE TABLE t (a BLOB NOT NULL, b REAL); -- note";
    assert_eq!(
        difference(
            sqlite,
            "CREATE TABLE t (a BYTEA NOT NULL, b DOUBLE PRECISION);"
        ),
        None
    );
    assert!(difference(sqlite, "CREATE TABLE t (a BYTEA, b DOUBLE PRECISION);").is_some());
    assert!(difference(
        sqlite,
        "CREATE TABLE t (a BYTEA NOT NULL, b DOUBLE PRECISION); CREATE INDEX i ON t (a);"
    )
    .is_some());
}

//! SEISMIC against the authors' R package on its own example tweet, and against the true
//! final sizes of 100 real Twitter cascades (see `shared/data/seismic-example-tweet/` and
//! `shared/data/seismic-tideh-cascades/`, each with a README), plus the timing of a
//! million-reshare cascade (ignored by default; run it in release with `--ignored`).
//!
//! The data sets live outside the repository. When one is missing its test says so and
//! passes, so the crate's tests still run elsewhere.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use cascade_core::seismic::{predict, Observation, Params, Predictor};

const TWEET_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/seismic-example-tweet"
);
const TIDEH_ARCHIVE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/seismic-tideh-cascades/tideh_cascades.tar.gz"
);

/// The example tweet: `relative_time_second,number_of_followers`, gzipped.
fn example_tweet() -> Option<Vec<Observation>> {
    let path = Path::new(TWEET_DIR).join("tweet.csv.gz");
    if !path.exists() {
        eprintln!("skipping: {} is not here", path.display());
        return None;
    }
    let output = Command::new("gzip")
        .arg("-dc")
        .arg(&path)
        .output()
        .expect("gzip runs");
    assert!(output.status.success(), "gzip failed on {}", path.display());
    let text = String::from_utf8(output.stdout).expect("UTF-8 CSV");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("\"relative_time_second\",\"number_of_followers\"")
    );
    Some(
        lines
            .map(|line| {
                let (time, followers) = line.split_once(',').expect("two columns");
                Observation {
                    time: time.parse().expect("time"),
                    followers: followers.parse().expect("followers"),
                }
            })
            .collect(),
    )
}

/// One row of the R package's outputs.
struct Reference {
    time: f64,
    infectiousness: f64,
    upper: f64,
    lower: f64,
    prediction: f64,
    observed: usize,
    numerator: f64,
}

fn reference_outputs() -> Vec<Reference> {
    let path = Path::new(TWEET_DIR).join("seismic_reference_6h_step60.csv");
    let text = std::fs::read_to_string(&path).expect("reference outputs");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("pred_time_s,infectiousness,p_up,p_low,prediction,current_rt,numerator")
    );
    // R prints infinity as `Inf`, which Rust's parser reads too.
    let number = |field: &str| -> f64 { field.parse().expect("a number") };
    lines
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            Reference {
                time: number(f[0]),
                infectiousness: number(f[1]),
                upper: number(f[2]),
                lower: number(f[3]),
                prediction: number(f[4]),
                observed: f[5].parse().expect("a count"),
                numerator: number(f[6]),
            }
        })
        .collect()
}

/// How far `got` is from `want`, relatively: 0 when equal (infinities included), and
/// infinite when only one of them is infinite or `want` is 0 and `got` is not.
fn relative_error(got: f64, want: f64) -> f64 {
    if got == want {
        0.0
    } else if want.is_finite() && got.is_finite() {
        (got - want).abs() / want.abs()
    } else {
        f64::INFINITY
    }
}

#[test]
fn seismic_matches_the_r_package_on_its_example_tweet_every_minute_for_six_hours() {
    let Some(tweet) = example_tweet() else {
        return;
    };
    assert_eq!(tweet.len(), 15_563, "the original and 15,562 retweets");
    let reference = reference_outputs();
    assert_eq!(reference.len(), 361);
    let times: Vec<f64> = reference.iter().map(|r| r.time).collect();

    let estimates = predict(&tweet, &times, &Params::default());

    let mut worst = [0.0f64; 5];
    for (e, r) in estimates.iter().zip(&reference) {
        assert_eq!(e.time, r.time);
        assert_eq!(e.observed, r.observed, "reshares seen at {} s", r.time);
        let errors = [
            relative_error(e.infectiousness, r.infectiousness),
            relative_error(e.lower, r.lower),
            relative_error(e.upper, r.upper),
            relative_error(e.numerator, r.numerator),
            relative_error(e.prediction, r.prediction),
        ];
        assert!(
            errors.iter().all(|&error| error < 1e-6),
            "at {} s: ours {e:?}, relative errors {errors:?}",
            r.time
        );
        for (w, error) in worst.iter_mut().zip(errors) {
            *w = w.max(error);
        }
    }
    let infinite = estimates
        .iter()
        .filter(|e| e.prediction.is_infinite())
        .count();
    assert_eq!(infinite, 27, "the README counts 27 infinite predictions");
    eprintln!(
        "largest relative errors against R: infectiousness {:.1e}, p.low {:.1e}, p.up {:.1e}, \
         numerator {:.1e}, prediction {:.1e}",
        worst[0], worst[1], worst[2], worst[3], worst[4]
    );
}

/// The 100 training cascades: `(true final retweets, observations)`, sorted by file name.
fn tideh_cascades() -> Option<Vec<(String, usize, Vec<Observation>)>> {
    if !Path::new(TIDEH_ARCHIVE).exists() {
        eprintln!("skipping: {TIDEH_ARCHIVE} is not here");
        return None;
    }
    let dir = unpack_tideh().join("training");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("training directory")
        .map(|e| e.expect("directory entry").path())
        .collect();
    files.sort();
    Some(
        files
            .iter()
            .map(|path| {
                let text = std::fs::read_to_string(path).expect("cascade file");
                let mut lines = text.lines();
                let header = lines.next().expect("a header line");
                let total = header
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("total retweets");
                let observations: Vec<Observation> = lines
                    .map(|line| {
                        let mut fields = line.split_whitespace().map(|f| f.parse::<f64>());
                        match (fields.next(), fields.next()) {
                            (Some(Ok(time)), Some(Ok(followers))) => {
                                Observation { time, followers }
                            }
                            _ => panic!("{}: bad line {line:?}", path.display()),
                        }
                    })
                    .collect();
                // The README: line 1's total equals the number of events minus the original.
                assert_eq!(observations.len(), total + 1, "{}", path.display());
                let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                (name, total, observations)
            })
            .collect(),
    )
}

/// Unpacks the archive once into the target directory, atomically, so concurrent test
/// runs never see half a copy.
fn unpack_tideh() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("seismic-tideh");
    if dir.join("training").join("RT99.txt").exists() {
        return dir;
    }
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("seismic-tideh.unpacking.{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch directory");
    let status = Command::new("tar")
        .arg("xzf")
        .arg(TIDEH_ARCHIVE)
        .arg("-C")
        .arg(&scratch)
        .status()
        .expect("tar runs");
    assert!(status.success(), "tar failed on {TIDEH_ARCHIVE}");
    // Another process may have won the race; its copy is as good as ours.
    if std::fs::rename(&scratch, &dir).is_err() {
        std::fs::remove_dir_all(&scratch).ok();
    }
    dir
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    }
}

#[test]
fn seismic_predicts_real_cascades_final_sizes_within_a_known_error() {
    let Some(cascades) = tideh_cascades() else {
        return;
    };
    assert_eq!(cascades.len(), 100);
    let params = Params::default();
    let hours = [0.25, 1.0, 6.0, 24.0];
    let mut errors: Vec<Vec<f64>> = vec![Vec::new(); hours.len()];
    for (name, total, observations) in &cascades {
        let predictor = Predictor::new(observations, params);
        for (h, errors) in hours.iter().zip(&mut errors) {
            let e = predictor.estimate(h * 3_600.0);
            assert!(e.prediction >= e.observed as f64, "{name} at {h} h: {e:?}");
            // An infinite prediction is an infinite error; the median copes.
            errors.push((e.prediction - *total as f64).abs() / *total as f64);
        }
    }
    let mut medians = Vec::new();
    for (h, errors) in hours.iter().zip(&mut errors) {
        let infinite = errors.iter().filter(|e| e.is_infinite()).count();
        let m = median(errors);
        eprintln!(
            "after {h:>5} h: median absolute percentage error {:.1}%, {infinite} infinite",
            100.0 * m
        );
        medians.push(m);
    }
    // Measured: 43.4% after 15 min (one prediction infinite), 38.0% after 1 h, 17.9% after
    // 6 h, 13.7% after 24 h. The bounds leave half as much again, so that a change which
    // makes predictions clearly worse fails here.
    assert!(medians[1] < 1.5 * 0.380, "after 1 h: {:.3}", medians[1]);
    assert!(medians[2] < 1.5 * 0.179, "after 6 h: {:.3}", medians[2]);
}

/// A synthetic cascade of `n` reshares over a week, arriving ever more slowly (reshare i
/// at `week · (i/n)²`), from accounts whose follower counts are spread over five decades.
fn synthetic_cascade(n: usize) -> Vec<Observation> {
    let mut state = 7u64;
    let mut next = move || {
        // SplitMix64: enough randomness for follower counts, and no dependency.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let week = 7.0 * 24.0 * 3_600.0;
    let mut shares = vec![Observation {
        time: 0.0,
        followers: 50_000.0,
    }];
    for i in 1..=n {
        let u = (next() >> 11) as f64 / (1u64 << 53) as f64;
        shares.push(Observation {
            time: week * (i as f64 / n as f64).powi(2),
            followers: 10f64.powf(5.0 * u).floor(),
        });
    }
    // The server loads reshares in id order; reverse them so the preparation has to sort.
    shares[1..].reverse();
    shares
}

#[test]
#[ignore = "timing; run with --release -- --ignored --nocapture"]
fn a_million_reshare_cascade_is_predicted_quickly() {
    let shares = synthetic_cascade(1_000_000);
    let started = Instant::now();
    let predictor = Predictor::new(&shares, Params::default());
    let prepared = started.elapsed();
    let now = predictor.estimate(6.0 * 3_600.0);
    let one = started.elapsed() - prepared;
    let minutes: Vec<f64> = (0..=360).map(|m| m as f64 * 60.0).collect();
    let curve: Vec<_> = minutes.iter().map(|&t| predictor.estimate(t)).collect();
    let six_hours = started.elapsed() - prepared - one;
    let week: Vec<_> = (0..=7 * 24 * 60)
        .map(|m| predictor.estimate(m as f64 * 60.0))
        .collect();
    let whole_week = started.elapsed() - prepared - one - six_hours;
    eprintln!(
        "1,000,000 reshares: prepare {prepared:?}; one estimate {one:?}; every minute for \
         6 h (361) {six_hours:?}; every minute for a week (10,081) {whole_week:?}"
    );
    eprintln!(
        "at 6 h: {} seen, p {:.3e}, predicted {:.0} ({:.0} to {:.0}); at a week: {} seen, \
         predicted {:.0}",
        now.observed,
        now.infectiousness,
        now.prediction,
        now.prediction_lower,
        now.prediction_upper,
        week.last().map_or(0, |e| e.observed),
        week.last().map_or(0.0, |e| e.prediction),
    );
    assert_eq!(curve.len(), 361);
}

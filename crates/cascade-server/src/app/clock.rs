//! The clock: what falls due at a time rather than after a write. Once a second it turns
//! the polls that ran out into `PollEnded` jobs (`app::polls::end_due`) and publishes the
//! scheduled statuses whose time came (`app::scheduled::publish_due`). Both are written
//! in the store, so a restart loses none: the next pass after it finds them.

use std::time::Duration;

use crate::state::AppState;

/// How often the clock looks: the latest a due poll ends or a scheduled post appears.
const TICK: Duration = Duration::from_secs(1);

/// Runs the clock until the process ends.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if state.store.is_closed() {
            continue;
        }
        if let Err(e) = crate::app::polls::end_due(&state).await {
            tracing::warn!(error = %e, "ending due polls failed; retrying");
        }
        if let Err(e) = crate::app::scheduled::publish_due(&state).await {
            tracing::warn!(error = %e, "publishing scheduled statuses failed; retrying");
        }
    }
}

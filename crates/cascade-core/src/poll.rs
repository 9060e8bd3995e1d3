//! Polls: what a new poll may be and what a vote may choose, with Mastodon's limits (the
//! numbers `/api/v2/instance` reports under `configuration.polls`).

/// Options in a poll (Mastodon: 2 to 4).
pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 4;
/// Characters in one option (Mastodon: 50).
pub const MAX_OPTION_CHARS: usize = 50;
/// How long a poll may run, in seconds (Mastodon: 5 minutes to a month).
pub const MIN_EXPIRATION_SECS: i64 = 300;
pub const MAX_EXPIRATION_SECS: i64 = 2_629_746;

/// A poll as its author asked for it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPoll {
    pub options: Vec<String>,
    pub expires_in_secs: i64,
    pub multiple: bool,
    pub hide_totals: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PollError {
    #[error("Poll must have between {MIN_OPTIONS} and {MAX_OPTIONS} options")]
    OptionCount,
    #[error("Poll options must be between 1 and {MAX_OPTION_CHARS} characters")]
    OptionLength,
    #[error("Poll options must be different")]
    DuplicateOptions,
    #[error(
        "Poll duration must be between {MIN_EXPIRATION_SECS} and {MAX_EXPIRATION_SECS} seconds"
    )]
    Expiration,
    #[error("Choices must name the poll's options")]
    BadChoice,
    #[error("Choices must be one option, or several in a multiple-choice poll")]
    ChoiceCount,
}

impl NewPoll {
    /// Checks a poll: 2–4 distinct options of 1–50 characters (trimmed), running 5 minutes
    /// to a month.
    pub fn parse(
        options: Vec<String>,
        expires_in_secs: Option<i64>,
        multiple: bool,
        hide_totals: bool,
    ) -> Result<NewPoll, PollError> {
        let options: Vec<String> = options.into_iter().map(|o| o.trim().to_string()).collect();
        if !(MIN_OPTIONS..=MAX_OPTIONS).contains(&options.len()) {
            return Err(PollError::OptionCount);
        }
        if options
            .iter()
            .any(|o| o.is_empty() || o.chars().count() > MAX_OPTION_CHARS)
        {
            return Err(PollError::OptionLength);
        }
        if options
            .iter()
            .enumerate()
            .any(|(i, o)| options[..i].contains(o))
        {
            return Err(PollError::DuplicateOptions);
        }
        let expires_in_secs = expires_in_secs.ok_or(PollError::Expiration)?;
        if !(MIN_EXPIRATION_SECS..=MAX_EXPIRATION_SECS).contains(&expires_in_secs) {
            return Err(PollError::Expiration);
        }
        Ok(NewPoll {
            options,
            expires_in_secs,
            multiple,
            hide_totals,
        })
    }
}

/// Checks a vote's choices (option indexes) against a poll of `options` options: at least
/// one, each an option, none twice, and only one unless the poll is multiple-choice.
pub fn check_choices(choices: &[i64], options: usize, multiple: bool) -> Result<(), PollError> {
    if choices.is_empty() || (!multiple && choices.len() > 1) {
        return Err(PollError::ChoiceCount);
    }
    if choices
        .iter()
        .enumerate()
        .any(|(i, &c)| c < 0 || c as usize >= options || choices[..i].contains(&c))
    {
        return Err(PollError::BadChoice);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn polls_follow_mastodons_limits() {
        let p = NewPoll::parse(opts(&[" yes ", "no"]), Some(3600), false, true).unwrap();
        assert_eq!(p.options, opts(&["yes", "no"]));
        assert_eq!(
            NewPoll::parse(opts(&["one"]), Some(3600), false, false),
            Err(PollError::OptionCount)
        );
        assert_eq!(
            NewPoll::parse(opts(&["a", "b", "c", "d", "e"]), Some(3600), false, false),
            Err(PollError::OptionCount)
        );
        assert_eq!(
            NewPoll::parse(opts(&["a", ""]), Some(3600), false, false),
            Err(PollError::OptionLength)
        );
        assert_eq!(
            NewPoll::parse(vec!["a".into(), "x".repeat(51)], Some(3600), false, false),
            Err(PollError::OptionLength)
        );
        assert_eq!(
            NewPoll::parse(opts(&["a", "a"]), Some(3600), false, false),
            Err(PollError::DuplicateOptions)
        );
        for bad in [None, Some(299), Some(MAX_EXPIRATION_SECS + 1)] {
            assert_eq!(
                NewPoll::parse(opts(&["a", "b"]), bad, false, false),
                Err(PollError::Expiration)
            );
        }
    }

    #[test]
    fn votes_choose_existing_options_once() {
        assert!(check_choices(&[1], 3, false).is_ok());
        assert!(check_choices(&[0, 2], 3, true).is_ok());
        assert_eq!(check_choices(&[], 3, true), Err(PollError::ChoiceCount));
        assert_eq!(
            check_choices(&[0, 1], 3, false),
            Err(PollError::ChoiceCount)
        );
        assert_eq!(check_choices(&[3], 3, false), Err(PollError::BadChoice));
        assert_eq!(check_choices(&[-1], 3, false), Err(PollError::BadChoice));
        assert_eq!(check_choices(&[1, 1], 3, true), Err(PollError::BadChoice));
    }
}

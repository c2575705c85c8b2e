//! Config errors: every one names file, line and column.

use std::fmt;

/// A position in the config file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location {
    /// Line, starting at 1.
    pub line: usize,
    /// Column, starting at 1.
    pub column: usize,
}

impl Location {
    pub(crate) fn of(span: &marked_yaml::Span) -> Self {
        span.start()
            .map(|m| Location {
                line: m.line(),
                column: m.column(),
            })
            .unwrap_or_default()
    }
}

/// One problem in the config, with where it is and, when harness can guess,
/// what the user probably meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file as the user named it.
    pub file: String,
    /// Where in the file.
    pub location: Location,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
    /// A suggestion such as "did you mean `command`?".
    pub help: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.location.line, self.location.column, self.message
        )?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// All problems found in one config, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Collects errors while the config is walked, so that one run reports all
/// of them instead of the first.
pub(crate) struct Errors {
    pub file: String,
    pub list: Vec<ConfigError>,
}

impl Errors {
    pub fn push(&mut self, at: Location, message: impl Into<String>) {
        self.push_help(at, message, None);
    }

    pub fn push_help(&mut self, at: Location, message: impl Into<String>, help: Option<String>) {
        self.list.push(ConfigError {
            file: self.file.clone(),
            location: at,
            message: message.into(),
            help,
        });
    }
}

/// "did you mean `x`?" for the closest known word, if any is close enough.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    known
        .into_iter()
        .map(|k| (strsim::jaro_winkler(word, k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| format!("did you mean `{k}`?"))
}

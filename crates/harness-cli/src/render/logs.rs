//! `harness logs` lines: `api     | listening on 8080`, each service's
//! name padded to one width (growing if a longer one shows up while
//! following) and, on a terminal, coloured per service; optionally the
//! time the shim captured the line.

use anstyle::{AnsiColor, Style};
use harness_api::LogLine;
use std::io::{self, Write};

/// The colours names take, in turn by their place among the file's.
const PALETTE: [AnsiColor; 6] = [
    AnsiColor::Cyan,
    AnsiColor::Yellow,
    AnsiColor::Green,
    AnsiColor::Magenta,
    AnsiColor::Blue,
    AnsiColor::BrightRed,
];

/// What a time column holds for a line whose time was not recorded (a
/// log written before harness recorded capture times): as wide as a time.
const NO_TIME: &str = "-                          ";

/// How lines are printed.
pub struct LogView {
    /// Prefix each line with its service's name, padded to this width;
    /// `None` prints the lines alone.
    width: Option<usize>,
    /// The file's names in order, which give each its colour; `None`
    /// prints no colour.
    colours: Option<Vec<String>>,
    timestamps: bool,
}

impl LogView {
    /// Lines alone, or prefixed with names padded to at least the longest
    /// of `names` (the file's services and steps, which also give each
    /// its colour when `colour`).
    pub fn new(prefix: bool, names: Vec<String>, colour: bool, timestamps: bool) -> Self {
        LogView {
            width: prefix.then(|| names.iter().map(String::len).max().unwrap_or(0)),
            colours: colour.then_some(names),
            timestamps,
        }
    }

    /// Writes `line` as one line of text.
    pub fn write(&mut self, out: &mut impl Write, line: &LogLine) -> io::Result<()> {
        if let Some(width) = &mut self.width {
            *width = (*width).max(line.service.len());
            let name = format!("{:<width$} |", line.service, width = *width);
            match self.colour_of(&line.service) {
                Some(style) => write!(out, "{style}{name}{style:#} ")?,
                None => write!(out, "{name} ")?,
            }
        }
        if self.timestamps {
            write!(out, "{} ", line.ts.as_deref().unwrap_or(NO_TIME))?;
        }
        writeln!(out, "{}", line.line)
    }

    fn colour_of(&self, name: &str) -> Option<Style> {
        let names = self.colours.as_ref()?;
        let k = match names.iter().position(|n| n == name) {
            Some(k) => k,
            // A name the file does not have (any more): one colour all the
            // same, the same each time.
            None => name.bytes().map(usize::from).sum(),
        };
        Some(Style::new().fg_color(Some(PALETTE[k % PALETTE.len()].into())))
    }
}

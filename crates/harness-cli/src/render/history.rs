//! The transaction log (`status --history`).

use super::to_stdout;
use harness_api::HistoryEntry;
use harness_core::engine::HistoryState;
use std::collections::HashMap;
use std::io::{self, Write};

/// The transaction log: each service's chain of states, one line per
/// change of its own (`stopped → starting → running (healthy)`).
pub fn history(rows: &[HistoryEntry]) {
    to_stdout(|w| write_history(w, rows));
}

/// [`history`].
pub fn write_history(w: &mut impl Write, rows: &[HistoryEntry]) -> io::Result<()> {
    let width = rows
        .iter()
        .map(|r| r.service.len())
        .max()
        .unwrap_or(8)
        .max(8);
    struct Line {
        ts: String,
        service: String,
        chain: Vec<String>,
        reason: String,
        /// The request the chain began with ("retry chosen at prompt").
        cause: Option<String>,
        /// The last row named a request: its reason says it already.
        last_has_cause: bool,
    }
    let mut lines: Vec<Line> = Vec::new();
    let mut open: HashMap<String, usize> = HashMap::new();
    for r in rows {
        if let Some(&i) = open.get(&r.service)
            && lines[i].chain.last() == Some(&r.from)
        {
            let line = &mut lines[i];
            line.chain.push(r.to.clone());
            line.reason = r.reason.clone();
            line.cause = line.cause.take().or_else(|| r.cause.clone());
            line.last_has_cause = r.cause.is_some();
        } else {
            open.insert(r.service.clone(), lines.len());
            lines.push(Line {
                ts: r.ts.chars().take(19).collect(),
                service: r.service.clone(),
                chain: vec![r.from.clone(), r.to.clone()],
                reason: r.reason.clone(),
                cause: r.cause.clone(),
                last_has_cause: r.cause.is_some(),
            });
        }
        // A chain stays open while a process exists (starting, stopping).
        if !HistoryState::parse(&r.to).is_some_and(HistoryState::is_transient) {
            open.remove(&r.service);
        }
    }
    for l in lines {
        // Keep why the chain began after how it ended ("healthy; retry
        // chosen at prompt"), unless the last row named a request (the
        // engine puts a row's cause in its reason).
        let reason = match &l.cause {
            Some(c) if !l.last_has_cause => format!("{}; {c}", l.reason),
            _ => l.reason,
        };
        writeln!(
            w,
            "{}  {:<width$}  {} ({reason})",
            l.ts,
            l.service,
            l.chain.join(" → ")
        )?;
    }
    Ok(())
}

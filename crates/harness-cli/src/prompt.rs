//! Numbered prompts, as seed 000 shows them. Asked only when stdin and
//! stdout are terminals and no flag has already answered.

use crate::error::CliError;
use std::io::{BufRead, IsTerminal, Write};

/// Whether a person can be asked: stdin and stdout are both terminals.
pub fn terminal() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// One answer a prompt offers.
pub trait Answer: Copy {
    /// Its name: what a person may type, and what the history records
    /// (lower-cased).
    fn label(self) -> &'static str;
}

/// Prints "How would you like to proceed?" with `menu` (an answer and
/// what it does, each) and returns the answer picked. Accepts the number
/// or the label; asks again on anything else. End of input or Ctrl-C ends
/// the command as interrupted.
pub async fn ask<A: Answer>(menu: &[(A, String)]) -> Result<A, CliError> {
    println!("\nHow would you like to proceed?");
    for (n, (answer, what)) in menu.iter().enumerate() {
        println!("  {}) {} - {what}", n + 1, answer.label());
    }
    let labels: Vec<&str> = menu.iter().map(|(a, _)| a.label()).collect();
    loop {
        let line = answer(&format!("\nChoice [1-{}]: ", menu.len())).await?;
        if let Some(i) = pick(&line, &labels) {
            return Ok(menu[i].0);
        }
        println!(
            "Please answer with a number from 1 to {} (or its name).",
            menu.len()
        );
    }
}

/// Asks `question` and returns the line typed (trimmed), asking again on
/// an empty one. End of input or Ctrl-C ends the command as interrupted.
pub async fn line(question: &str) -> Result<String, CliError> {
    loop {
        let line = answer(question).await?;
        if !line.trim().is_empty() {
            return Ok(line.trim().to_string());
        }
    }
}

/// Asks a yes-or-no `question` (`[y/N]`): only `y` or `yes` is a yes.
/// End of input or Ctrl-C ends the command as interrupted.
pub async fn confirm(question: &str) -> Result<bool, CliError> {
    let line = answer(&format!("{question} [y/N]: ")).await?;
    Ok(matches!(line.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// Prints `question` and reads one line; end of input or Ctrl-C is the
/// command interrupted.
async fn answer(question: &str) -> Result<String, CliError> {
    print!("{question}");
    let _ = std::io::stdout().flush();
    let line = tokio::select! {
        l = read_line() => l,
        _ = tokio::signal::ctrl_c() => None,
    };
    line.ok_or_else(|| {
        println!();
        CliError::Interrupted
    })
}

/// The label `answer` names: its number, the label, or the label's first
/// word, ignoring case.
fn pick(answer: &str, labels: &[&str]) -> Option<usize> {
    let a = answer.trim().to_lowercase();
    if a.is_empty() {
        return None;
    }
    if let Ok(n) = a.parse::<usize>() {
        return (1..=labels.len()).contains(&n).then(|| n - 1);
    }
    labels.iter().position(|label| {
        let label = label.to_lowercase();
        label == a || label.split_whitespace().next() == Some(a.as_str())
    })
}

/// One line of stdin, read on its own thread so the runtime stays free
/// for Ctrl-C; `None` at end of input.
async fn read_line() -> Option<String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let n = std::io::stdin().lock().read_line(&mut line).unwrap_or(0);
        let _ = tx.send((n > 0).then_some(line));
    });
    rx.await.ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::pick;

    const MENU: &[&str] = &["Continue", "Restart", "Keep running", "Abort"];

    #[test]
    fn answers_by_number_or_name() {
        assert_eq!(pick("1\n", MENU), Some(0));
        assert_eq!(pick(" 4 ", MENU), Some(3));
        assert_eq!(pick("restart", MENU), Some(1));
        assert_eq!(pick("KEEP", MENU), Some(2));
        assert_eq!(pick("keep running", MENU), Some(2));
        for bad in ["", "0", "5", "maybe", "-1"] {
            assert_eq!(pick(bad, MENU), None, "{bad:?}");
        }
    }
}

//! The confirmation rule: commands that destroy data ask on a terminal and need `--yes`
//! anywhere else.

use std::io::{BufRead, IsTerminal, Write};

use crate::error::UsageError;

/// Returns when the user agreed (or passed `--yes`); an error otherwise.
pub(super) fn confirm(question: &str, yes: bool, flag_hint: &str) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(UsageError {
            message: format!(
                "{question}: refusing without confirmation, and this is not a terminal"
            ),
            hint: format!("run `{flag_hint} --yes` to go ahead"),
        }
        .into());
    }
    eprint!("{question}? [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        Err(UsageError {
            message: "cancelled; nothing was changed".into(),
            hint: format!("run `{flag_hint} --yes` to skip this question"),
        }
        .into())
    }
}

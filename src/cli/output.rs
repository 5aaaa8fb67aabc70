//! Writing data to stdout: lines and JSON documents. A closed pipe (`devdb status | head`)
//! ends the program quietly, as success.

use std::io::Write;

use serde::Serialize;

fn write(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        other => Ok(other?),
    }
}

/// One line of data.
pub(super) fn line(text: &str) -> anyhow::Result<()> {
    write(&format!("{text}\n"))
}

/// One JSON document.
pub(super) fn json(value: &impl Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    line(&text)
}

/// Raw bytes, for logs.
pub(super) fn bytes(data: &[u8]) -> anyhow::Result<()> {
    write(&String::from_utf8_lossy(data))
}
